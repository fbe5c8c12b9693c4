//! Socket address helpers shared by the server, the client and sessions.

use std::net::{SocketAddr, ToSocketAddrs};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use web_transport_quinn::quinn;

/// Parse a bind address such as `"[::]:4433"`, `"127.0.0.1:0"` or `"localhost:4433"`.
pub fn parse_addr(arg: &str, value: &str) -> PyResult<SocketAddr> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    value
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "{arg} must be 'host:port' (e.g. '[::]:4433' or '127.0.0.1:0'), got {value:?}"
            ))
        })
}

/// `(host, port)` as Python sees socket addresses; IPv4-mapped IPv6 shown as IPv4.
pub fn addr_tuple(addr: SocketAddr) -> (String, u16) {
    let ip = match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.ip().to_string(),
        },
        SocketAddr::V4(v4) => v4.ip().to_string(),
    };
    (ip, addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_shown_as_ipv4() {
        let addr: SocketAddr = "[::ffff:127.0.0.1]:443".parse().expect("addr");
        assert_eq!(addr_tuple(addr), ("127.0.0.1".to_string(), 443));
        let v6: SocketAddr = "[::1]:80".parse().expect("addr");
        assert_eq!(addr_tuple(v6), ("::1".to_string(), 80));
    }

    #[test]
    fn bind_addresses_parse() {
        Python::initialize();
        assert_eq!(parse_addr("bind", "127.0.0.1:0").expect("ok").port(), 0);
        assert!(parse_addr("bind", "[::]:4433").is_ok());
        assert!(parse_addr("bind", "not an address").is_err());
    }
}

/// An integer argument: `TypeError` for non-integers (and bools), `ValueError` rather
/// than `OverflowError` for integers beyond 64 bits, so every out-of-range value raises
/// the same documented exception as a merely large one.
#[derive(Clone, Copy, Debug)]
pub struct Int(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if !obj.is_instance_of::<pyo3::types::PyInt>()
            || obj.is_instance_of::<pyo3::types::PyBool>()
        {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "expected an int, got {}",
                obj.get_type().name()?
            )));
        }
        obj.extract::<i64>()
            .map(Int)
            .map_err(|_| PyValueError::new_err(format!("integer {} is out of range", obj.as_any())))
    }
}

/// How long a closed endpoint's connections may take to drain before `wait_closed` stops
/// waiting for them. Draining lasts 3 × PTO (RFC 9000 §10.2), well under this on any
/// sane path; a connection whose driver never reports the end would otherwise hold
/// quinn's `wait_idle` forever. RFC 9000 §10.2 lets an endpoint end draining early.
pub const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// When a closing endpoint stops waiting for its connections to drain: set on close.
#[derive(Clone, Default)]
pub struct DrainDeadline(std::sync::Arc<std::sync::Mutex<Option<tokio::time::Instant>>>);

impl DrainDeadline {
    /// The endpoint closes now; its connections have `grace` plus [`DRAIN_LIMIT`].
    pub fn start(&self, grace: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + grace + DRAIN_LIMIT;
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(deadline);
        }
    }

    /// Wait until `endpoint` has no connections left or, once it was closed, until the
    /// deadline.
    pub fn idle(
        &self,
        endpoint: quinn::Endpoint,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let deadline = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        async move {
            match deadline {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, endpoint.wait_idle()).await;
                }
                None => endpoint.wait_idle().await,
            }
        }
    }
}
