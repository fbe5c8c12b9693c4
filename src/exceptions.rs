//! Handles on the exception classes, which are defined in Python
//! (`web_transport/_exceptions.py`, so they carry typed attributes and docstrings):
//! each is looked up once, when the native module is imported, and raised by `errors.rs`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::BoundObject;

/// The exception classes this module raises, each looked up once by its name in
/// `web_transport._exceptions` (which defines them, with typed attributes).
macro_rules! exception_classes {
    ($($name:ident),* $(,)?) => {
        #[derive(Clone, Copy, Debug)]
        pub enum Class {
            $($name,)*
        }
        pub const CLASS_NAMES: &[&str] = &[$(stringify!($name),)*];
    };
}

exception_classes!(
    ConnectError,
    DatagramNotSupportedError,
    DatagramTooLargeError,
    ProtocolError,
    SessionClosedByPeer,
    SessionClosedLocally,
    SessionRejected,
    SessionTimeout,
    StreamClosedByPeer,
    StreamClosedLocally,
    StreamIncompleteReadError,
    StreamTooLongError,
);

/// The module defining the exception classes and the classes themselves, in the order
/// of [`Class`].
struct Exceptions {
    module: Py<PyModule>,
    classes: Vec<Py<PyType>>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || {
        let module = py.import("web_transport._exceptions")?;
        let classes = CLASS_NAMES
            .iter()
            .map(|name| Ok(module.getattr(*name)?.cast_into::<PyType>()?.unbind()))
            .collect::<PyResult<_>>()?;
        Ok(Exceptions {
            module: module.unbind(),
            classes,
        })
    })
}

/// The module holding the exception classes (the native module re-exports them). Loads
/// every class this module raises, so a missing one fails the import, not a later error.
pub fn exceptions_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(exceptions(py)?.module.bind(py))
}

/// Build `web_transport.<class>(message)`.
pub fn raise(py: Python<'_>, class: Class, message: impl Into<String>) -> PyErr {
    raise_with(py, class, message, &[])
}

/// Build `web_transport.<class>(message, **kwargs)`.
pub fn raise_with(
    py: Python<'_>,
    class: Class,
    message: impl Into<String>,
    kwargs: &[(&str, Py<PyAny>)],
) -> PyErr {
    let message = message.into();
    let build = || -> PyResult<PyErr> {
        let class = exceptions(py)?.classes[class as usize].bind(py);
        let kw = PyDict::new(py);
        for (k, v) in kwargs {
            kw.set_item(k, v)?;
        }
        let value = class.call((message,), Some(&kw))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|e| e)
}

/// A Python object for an exception attribute (`None` if the conversion fails).
pub fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Py<PyAny> {
    match v.into_pyobject(py) {
        Ok(o) => o.into_any().unbind(),
        Err(_) => py.None(),
    }
}
