//! Argument helpers shared by every class: integers, WebTransport error codes, close
//! reasons, durations in seconds and socket addresses. Each raises `TypeError` for a
//! value of the wrong type and `ValueError` for one out of range, naming the argument.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

/// An integer argument: `TypeError` for non-integers (and bools), `ValueError` rather
/// than `OverflowError` for integers beyond 64 bits, so every out-of-range value raises
/// the same documented exception as a merely large one.
#[derive(Clone, Copy, Debug)]
pub struct Int(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
            return Err(PyTypeError::new_err(format!(
                "expected an int, got {}",
                obj.get_type().name()?
            )));
        }
        obj.extract::<i64>()
            .map(Int)
            .map_err(|_| PyValueError::new_err(format!("integer {} is out of range", obj.as_any())))
    }
}

/// An argument PyO3 hands over unconverted: the object Python passed (or the
/// signature's default), converted by the function body inside the exit gate.
/// `#[gate::pymethods]`/`#[gate::pyfunction]` give this type to every argument whose
/// conversion may run Python code (`__float__`, `__index__`, iteration), and convert it
/// with [`Deferred::extract`] right after entering the gate.
pub enum Deferred<'py, T> {
    /// The object Python passed.
    Given(Bound<'py, PyAny>),
    /// The signature's default.
    Default(T),
}

impl<'a, 'py, T> FromPyObject<'a, 'py> for Deferred<'py, T> {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Self::Given(obj.to_owned()))
    }
}

impl<'py, T: pyo3::conversion::FromPyObjectOwned<'py>> Deferred<'py, T> {
    /// Convert as PyO3's wrapper would have, with the same error (PyO3's
    /// `argument_extraction_error`: the note `while processing 'name'`).
    pub fn extract(self, name: &str) -> PyResult<T> {
        match self {
            Self::Default(value) => Ok(value),
            Self::Given(obj) => obj.extract::<T>().map_err(|e| {
                pyo3::impl_::extract_argument::argument_extraction_error(obj.py(), name, e.into())
            }),
        }
    }
}

/// Validate a WebTransport application error code (a 32-bit unsigned integer,
/// draft-ietf-webtrans-http3 §4.4); `None` is 0. Non-integers raise `TypeError`,
/// integers out of range `ValueError`, both naming the argument.
pub fn check_code(name: &str, code: Option<&Bound<'_, PyAny>>) -> PyResult<u32> {
    let Some(code) = code else { return Ok(0) };
    if !code.is_instance_of::<PyInt>() || code.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not {}",
            code.get_type().name()?
        )));
    }
    code.extract::<u32>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a WebTransport error code between 0 and 4294967295, got {code}"
        ))
    })
}

/// The longest close reason the close capsule may carry (draft-ietf-webtrans-http3 §5).
pub const MAX_REASON_BYTES: usize = 1024;

/// Validate a session close reason: at most [`MAX_REASON_BYTES`] of UTF-8, else
/// `ValueError`.
pub fn check_reason(reason: &str) -> PyResult<()> {
    if reason.len() > MAX_REASON_BYTES {
        return Err(PyValueError::new_err(format!(
            "reason must be at most {MAX_REASON_BYTES} bytes of UTF-8, got {}",
            reason.len()
        )));
    }
    Ok(())
}

/// An optional positive duration in seconds (`None` stays `None`), below 10⁹ s.
pub fn optional_seconds(name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(Some(Duration::from_secs_f64(v))),
        Some(v) => Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds or None, got {v}"
        ))),
    }
}

/// A positive duration in seconds, below 10⁶ s.
pub fn positive_seconds(name: &str, value: f64) -> PyResult<Duration> {
    if value.is_finite() && value > 0.0 && value < 1e6 {
        return Ok(Duration::from_secs_f64(value));
    }
    Err(PyValueError::new_err(format!(
        "{name} must be a positive number of seconds, got {value}"
    )))
}

/// A duration in seconds that may be 0, below 10⁶ s.
pub fn seconds_or_zero(name: &str, value: f64) -> PyResult<Duration> {
    if value.is_finite() && (0.0..1e6).contains(&value) {
        return Ok(Duration::from_secs_f64(value));
    }
    Err(PyValueError::new_err(format!(
        "{name} must be a number of seconds >= 0, got {value}"
    )))
}

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

    #[test]
    fn seconds_are_checked() {
        Python::initialize();
        assert_eq!(optional_seconds("t", None).ok(), Some(None));
        assert!(optional_seconds("t", Some(0.0)).is_err());
        assert!(positive_seconds("t", f64::NAN).is_err());
        assert_eq!(seconds_or_zero("t", 0.0).ok(), Some(Duration::ZERO));
        assert!(seconds_or_zero("t", -1.0).is_err());
    }

    #[test]
    fn codes_are_checked() {
        Python::initialize();
        Python::attach(|py| {
            let ok = 4_294_967_295u64.into_pyobject(py).expect("int").into_any();
            assert_eq!(check_code("code", Some(&ok)).ok(), Some(u32::MAX));
            let big = 4_294_967_296u64.into_pyobject(py).expect("int").into_any();
            let err = check_code("code", Some(&big)).expect_err("out of range");
            assert!(err.is_instance_of::<PyValueError>(py));
            let neg = (-1i64).into_pyobject(py).expect("int").into_any();
            assert!(check_code("code", Some(&neg)).is_err());
            let text = "1".into_pyobject(py).expect("str").into_any();
            let err = check_code("error_code", Some(&text)).expect_err("type");
            assert!(err.is_instance_of::<PyTypeError>(py));
            assert!(err.to_string().contains("error_code"));
            assert_eq!(check_code("code", None).ok(), Some(0));
        });
    }
}
