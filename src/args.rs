//! Argument helpers shared by every class: integers, WebTransport error codes, close
//! reasons, durations in seconds, lists of names and socket addresses. Each raises
//! `TypeError` for a value of the wrong type and `ValueError` for one out of range,
//! naming the argument (PyO3 adds the note `while processing 'name'` to an extractor's
//! error). The extractors ([`Int`], [`Seconds`], [`Strings`]) run no Python code, so
//! they may run before the exit gate ([`QuietArgument`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

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

/// A number of seconds: an `int` (not a `bool`) or a `float` (subclasses included),
/// read without calling `__float__`. `TypeError` for any other type, `ValueError` for an
/// integer beyond 64 bits; the range is the caller's to check ([`optional_seconds`],
/// [`positive_seconds`], [`seconds_or_zero`]).
#[derive(Clone, Copy, Debug)]
pub struct Seconds(pub f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Seconds {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyFloat>() {
            return obj.extract::<f64>().map(Seconds);
        }
        match obj.extract::<Int>() {
            #[allow(clippy::cast_precision_loss)] // beyond 2**53 s, any range check fails
            Ok(Int(n)) => Ok(Seconds(n as f64)),
            Err(e) if e.is_instance_of::<PyValueError>(obj.py()) => Err(e),
            Err(_) => Err(PyTypeError::new_err(format!(
                "expected a number of seconds (int or float), got {}",
                obj.get_type().name()?
            ))),
        }
    }
}

/// A `list` or `tuple` of `str` (subclasses included), read without running Python code:
/// other sequences and iterables are refused with `TypeError` (their `__len__` or
/// `__iter__` would run), as is a `str` itself and any item that is not a `str`.
#[derive(Clone, Debug)]
pub struct Strings(pub Vec<String>);

impl<'a, 'py> FromPyObject<'a, 'py> for Strings {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let items: Vec<Bound<'py, PyAny>> = if let Ok(list) = obj.cast::<PyList>() {
            list.iter().collect()
        } else if let Ok(tuple) = obj.cast::<PyTuple>() {
            tuple.iter().collect()
        } else {
            return Err(PyTypeError::new_err(format!(
                "expected a list of str, got {}",
                obj.get_type().name()?
            )));
        };
        let mut strings = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if !item.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(format!(
                    "expected a list of str, item {i} is {}",
                    item.get_type().name()?
                )));
            }
            strings.push(item.extract::<String>()?);
        }
        Ok(Strings(strings))
    }
}

/// An argument type PyO3 extracts without running Python code: no `__float__`,
/// `__index__`, `__len__` or `__iter__` of the caller's objects, no finalizer. PyO3's
/// wrapper extracts the arguments before the body enters the exit gate (`shutdown.rs`),
/// so `#[gate::pymethods]`/`#[gate::pyfunction]` accept only these (the gate inserts
/// [`quiet`] for each argument: a check at compile time, nothing at run time).
#[diagnostic::on_unimplemented(
    message = "`{Self}` may run Python code when PyO3 extracts it, outside the exit gate",
    label = "not a quiet argument type",
    note = "take it as one of src/args.rs (Int, Seconds, Strings), &str, &[u8], \
            &Bound<'_, PyAny>, Bound, Py, PyRef, bool, String, or an Option of these"
)]
pub trait QuietArgument {}

impl QuietArgument for Int {}
impl QuietArgument for Seconds {}
impl QuietArgument for Strings {}
impl QuietArgument for bool {}
impl QuietArgument for String {}
impl QuietArgument for Python<'_> {}
impl QuietArgument for &str {}
impl QuietArgument for &[u8] {}
impl<T> QuietArgument for &Bound<'_, T> {}
impl<T> QuietArgument for Bound<'_, T> {}
impl<T> QuietArgument for Py<T> {}
impl<T: pyo3::PyClass> QuietArgument for PyRef<'_, T> {}
impl<T: QuietArgument> QuietArgument for Option<T> {}

/// Compiles only for a [`QuietArgument`]; the gate calls it for each argument.
#[inline(always)]
pub const fn quiet<T: QuietArgument + ?Sized>() {}

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
pub fn optional_seconds(name: &str, value: Option<Seconds>) -> PyResult<Option<Duration>> {
    match value.map(|s| s.0) {
        None => Ok(None),
        Some(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(Some(Duration::from_secs_f64(v))),
        Some(v) => Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds or None, got {v}"
        ))),
    }
}

/// A positive duration in seconds, below 10⁶ s.
pub fn positive_seconds(name: &str, Seconds(value): Seconds) -> PyResult<Duration> {
    if value.is_finite() && value > 0.0 && value < 1e6 {
        return Ok(Duration::from_secs_f64(value));
    }
    Err(PyValueError::new_err(format!(
        "{name} must be a positive number of seconds, got {value}"
    )))
}

/// A duration in seconds that may be 0, below 10⁶ s.
pub fn seconds_or_zero(name: &str, Seconds(value): Seconds) -> PyResult<Duration> {
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
        assert!(optional_seconds("t", Some(Seconds(0.0))).is_err());
        assert!(positive_seconds("t", Seconds(f64::NAN)).is_err());
        assert_eq!(
            seconds_or_zero("t", Seconds(0.0)).ok(),
            Some(Duration::ZERO)
        );
        assert!(seconds_or_zero("t", Seconds(-1.0)).is_err());
    }

    /// The extractors read `int`, `float`, `list`, `tuple` and `str` instances only: an
    /// object whose `__float__` or `__len__` would run is refused without running it.
    #[test]
    fn extractors_run_no_python_code() {
        Python::initialize();
        Python::attach(|py| {
            let code = c"
class Loud:
    def __float__(self): raise AssertionError('ran __float__')
    def __index__(self): raise AssertionError('ran __index__')
    def __len__(self): raise AssertionError('ran __len__')
    def __iter__(self): raise AssertionError('ran __iter__')
class F(float): pass
values = [1, 2.5, F(0.5), True, 'x', Loud(), ['a', 'b'], ('c',), 'ab', ['a', 1]]
";
            let scope = pyo3::types::PyDict::new(py);
            py.run(code, None, Some(&scope)).expect("setup");
            let values = scope.get_item("values").expect("get").expect("values");
            let at = |i: usize| values.get_item(i).expect("item");
            let seconds = |i: usize| at(i).extract::<Seconds>().map(|s| s.0);
            let strings = |i: usize| at(i).extract::<Strings>().map(|s| s.0);
            assert_eq!(seconds(0).ok(), Some(1.0));
            assert_eq!(seconds(1).ok(), Some(2.5));
            assert_eq!(seconds(2).ok(), Some(0.5));
            for refused in [3, 4, 5, 6] {
                let err = seconds(refused).expect_err("refused");
                assert!(err.is_instance_of::<PyTypeError>(py), "{err}");
            }
            assert_eq!(strings(6).ok(), Some(vec!["a".into(), "b".into()]));
            assert_eq!(strings(7).ok(), Some(vec!["c".into()]));
            for refused in [5, 8, 9] {
                let err = strings(refused).expect_err("refused");
                assert!(err.is_instance_of::<PyTypeError>(py), "{err}");
            }
            assert_eq!(
                strings(9).expect_err("item").to_string(),
                "TypeError: expected a list of str, item 1 is int"
            );
        });
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
