//! `TransportConfig`: the QUIC transport settings shared by `Server` and `Client`, and
//! the translation of the constructor keywords into a `quinn::TransportConfig`.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use web_transport_quinn::quinn;

use crate::args::{optional_seconds, Int, Seconds};

/// QUIC stream limits, flow-control windows and datagram buffers (RFC 9000 §4, RFC 9221).
///
/// Shared by `Server(transport=...)` and `Client(transport=...)`. All sizes are bytes.
#[pyclass(frozen, module = "web_transport", get_all)]
#[derive(Clone, Debug)]
pub struct TransportConfig {
    pub max_concurrent_bidi_streams: u32,
    pub max_concurrent_uni_streams: u32,
    pub stream_receive_window: u32,
    pub receive_window: u64,
    pub send_window: u64,
    pub datagram_receive_buffer_size: Option<usize>,
    pub datagram_send_buffer_size: usize,
    pub initial_rtt: f64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            max_concurrent_bidi_streams: 100,
            max_concurrent_uni_streams: 100,
            stream_receive_window: 1_250_000,
            receive_window: 15_000_000,
            send_window: 15_000_000,
            datagram_receive_buffer_size: Some(1_048_576),
            datagram_send_buffer_size: 1_048_576,
            initial_rtt: 0.333,
        }
    }
}

impl TransportConfig {
    /// Validate and build (the Python constructor's body).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        max_concurrent_bidi_streams: i64,
        max_concurrent_uni_streams: i64,
        stream_receive_window: i64,
        receive_window: i64,
        send_window: i64,
        datagram_receive_buffer_size: Option<i64>,
        datagram_send_buffer_size: i64,
        initial_rtt: f64,
    ) -> PyResult<Self> {
        let count = |name: &str, v: i64| -> PyResult<u32> {
            u32::try_from(v).map_err(|_| {
                PyValueError::new_err(format!("{name} must be between 0 and 2**32 - 1, got {v}"))
            })
        };
        let window = |name: &str, v: i64, min: i64| -> PyResult<u64> {
            if v < min || v > (1 << 62) - 1 {
                return Err(PyValueError::new_err(format!(
                    "{name} must be between {min} and 2**62 - 1 bytes, got {v}"
                )));
            }
            Ok(v as u64)
        };
        if !(initial_rtt.is_finite() && initial_rtt > 0.0 && initial_rtt <= 60.0) {
            return Err(PyValueError::new_err(format!(
                "initial_rtt must be a number of seconds in (0, 60], got {initial_rtt}"
            )));
        }
        let stream_window = window("stream_receive_window", stream_receive_window, 1024)?;
        Ok(Self {
            max_concurrent_bidi_streams: count(
                "max_concurrent_bidi_streams",
                max_concurrent_bidi_streams,
            )?,
            max_concurrent_uni_streams: count(
                "max_concurrent_uni_streams",
                max_concurrent_uni_streams,
            )?,
            stream_receive_window: u32::try_from(stream_window).map_err(|_| {
                PyValueError::new_err("stream_receive_window must be below 2**32 bytes")
            })?,
            receive_window: window("receive_window", receive_window, 1024)?,
            send_window: window("send_window", send_window, 1024)?,
            datagram_receive_buffer_size: datagram_receive_buffer_size
                .map(|v| window("datagram_receive_buffer_size", v, 0).map(|v| v as usize))
                .transpose()?,
            datagram_send_buffer_size: window(
                "datagram_send_buffer_size",
                datagram_send_buffer_size,
                0,
            )? as usize,
            initial_rtt,
        })
    }
}

#[gate::pymethods]
impl TransportConfig {
    #[new]
    #[pyo3(signature = (
        *,
        max_concurrent_bidi_streams = Int(100),
        max_concurrent_uni_streams = Int(100),
        stream_receive_window = Int(1_250_000),
        receive_window = Int(15_000_000),
        send_window = Int(15_000_000),
        datagram_receive_buffer_size = Some(Int(1_048_576)),
        datagram_send_buffer_size = Int(1_048_576),
        initial_rtt = Seconds(0.333),
    ),
    // The Int defaults spelled out (PyO3 shows them as `...`).
    text_signature = "(*, max_concurrent_bidi_streams=100, max_concurrent_uni_streams=100, \
        stream_receive_window=1250000, receive_window=15000000, send_window=15000000, \
        datagram_receive_buffer_size=1048576, datagram_send_buffer_size=1048576, \
        initial_rtt=0.333)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        max_concurrent_bidi_streams: Int,
        max_concurrent_uni_streams: Int,
        stream_receive_window: Int,
        receive_window: Int,
        send_window: Int,
        datagram_receive_buffer_size: Option<Int>,
        datagram_send_buffer_size: Int,
        initial_rtt: Seconds,
    ) -> PyResult<Self> {
        Self::new(
            max_concurrent_bidi_streams.0,
            max_concurrent_uni_streams.0,
            stream_receive_window.0,
            receive_window.0,
            send_window.0,
            datagram_receive_buffer_size.map(|v| v.0),
            datagram_send_buffer_size.0,
            initial_rtt.0,
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "TransportConfig(max_concurrent_bidi_streams={}, max_concurrent_uni_streams={}, \
             stream_receive_window={}, receive_window={}, send_window={}, \
             datagram_receive_buffer_size={}, datagram_send_buffer_size={}, initial_rtt={})",
            self.max_concurrent_bidi_streams,
            self.max_concurrent_uni_streams,
            self.stream_receive_window,
            self.receive_window,
            self.send_window,
            self.datagram_receive_buffer_size
                .map_or("None".to_string(), |v| v.to_string()),
            self.datagram_send_buffer_size,
            self.initial_rtt,
        )
    }
}

/// The keywords common to `Server` and `Client`, validated.
pub struct Transport {
    pub congestion_control: CongestionControl,
    pub max_idle_timeout: Option<Duration>,
    pub keep_alive_interval: Option<Duration>,
    pub config: TransportConfig,
}

#[derive(Clone, Copy, Debug)]
pub enum CongestionControl {
    Default,
    Throughput,
    LowLatency,
}

impl Transport {
    /// `congestion_control` and `transport` validated; no idle timeout or keep-alive
    /// until [`Transport::idle_timers`].
    pub fn parse(
        congestion_control: &str,
        config: Option<Bound<'_, TransportConfig>>,
    ) -> PyResult<Self> {
        let congestion_control = match congestion_control {
            "default" => CongestionControl::Default,
            "throughput" => CongestionControl::Throughput,
            "low_latency" => CongestionControl::LowLatency,
            other => {
                return Err(PyValueError::new_err(format!(
                    "congestion_control must be 'default', 'throughput' or 'low_latency', \
                     got {other:?}"
                )))
            }
        };
        Ok(Self {
            congestion_control,
            max_idle_timeout: None,
            keep_alive_interval: None,
            config: config.map(|c| c.get().clone()).unwrap_or_default(),
        })
    }

    /// These settings with `max_idle_timeout` and `keep_alive_interval` (seconds) validated.
    pub fn idle_timers(
        self,
        max_idle_timeout: Option<Seconds>,
        keep_alive_interval: Option<Seconds>,
    ) -> PyResult<Self> {
        Ok(Self {
            max_idle_timeout: optional_seconds("max_idle_timeout", max_idle_timeout)?,
            keep_alive_interval: optional_seconds("keep_alive_interval", keep_alive_interval)?,
            ..self
        })
    }

    /// Build the quinn transport configuration.
    pub fn quinn(&self) -> PyResult<Arc<quinn::TransportConfig>> {
        let c = &self.config;
        let mut t = quinn::TransportConfig::default();
        let idle = match self.max_idle_timeout {
            Some(d) => Some(quinn::IdleTimeout::try_from(d).map_err(|_| {
                PyValueError::new_err("max_idle_timeout is too large (at most 2**62 ms)")
            })?),
            None => None,
        };
        t.max_idle_timeout(idle)
            .keep_alive_interval(self.keep_alive_interval)
            .max_concurrent_bidi_streams(c.max_concurrent_bidi_streams.into())
            .max_concurrent_uni_streams(c.max_concurrent_uni_streams.into())
            .stream_receive_window(c.stream_receive_window.into())
            .receive_window(
                quinn::VarInt::from_u64(c.receive_window)
                    .map_err(|_| PyValueError::new_err("receive_window is too large"))?,
            )
            .send_window(c.send_window)
            .datagram_receive_buffer_size(c.datagram_receive_buffer_size)
            .datagram_send_buffer_size(c.datagram_send_buffer_size)
            .initial_rtt(Duration::from_secs_f64(c.initial_rtt));
        match self.congestion_control {
            CongestionControl::Default => {}
            CongestionControl::Throughput => {
                t.congestion_controller_factory(
                    Arc::new(quinn::congestion::CubicConfig::default()),
                );
            }
            CongestionControl::LowLatency => {
                t.congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
            }
        }
        Ok(Arc::new(t))
    }
}

/// The rustls crypto provider (ring: smaller wheels than aws-lc-rs, see bench/README.md).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(cc: &str, idle: Option<f64>, keep_alive: Option<f64>) -> PyResult<Transport> {
        Transport::parse(cc, None)?.idle_timers(idle.map(Seconds), keep_alive.map(Seconds))
    }

    #[test]
    fn congestion_control_names() {
        Python::initialize();
        for name in ["default", "throughput", "low_latency"] {
            assert!(parse(name, Some(30.0), None).is_ok());
        }
        assert!(parse("bbr", Some(30.0), None).is_err());
    }

    #[test]
    fn durations_are_validated() {
        Python::initialize();
        assert!(parse("default", Some(0.0), None).is_err());
        assert!(parse("default", Some(f64::NAN), None).is_err());
        assert!(parse("default", None, Some(-1.0)).is_err());
        let t = parse("default", None, Some(5.0)).expect("valid");
        assert_eq!(t.max_idle_timeout, None);
        assert_eq!(t.keep_alive_interval, Some(Duration::from_secs(5)));
        assert!(t.quinn().is_ok());
    }

    #[test]
    fn transport_config_ranges() {
        Python::initialize();
        assert!(
            TransportConfig::new(100, 100, 1_250_000, 15_000_000, 15_000_000, None, 0, 0.1).is_ok()
        );
        assert!(
            TransportConfig::new(-1, 100, 1_250_000, 15_000_000, 15_000_000, None, 0, 0.1).is_err()
        );
        assert!(TransportConfig::new(100, 100, 10, 15_000_000, 15_000_000, None, 0, 0.1).is_err());
        assert!(
            TransportConfig::new(100, 100, 1_250_000, 15_000_000, 15_000_000, None, 0, 0.0)
                .is_err()
        );
    }
}
