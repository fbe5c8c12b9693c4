//! Bytes-like arguments to `bytes::Bytes` without a Python-side copy.
//!
//! An immutable `bytes` object is shared with quinn as is: the `Bytes` owns a PyO3
//! `PyBackedBytes`, a reference to the object (dropping it off the GIL is deferred by
//! PyO3). A mutable buffer (bytearray, memoryview, array, numpy) is copied once in Rust,
//! because the caller may change it after `write` returns while quinn still needs the
//! data for retransmission.

use bytes::Bytes;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyBytes;

/// Convert a bytes-like object to `Bytes`; `TypeError` naming `arg` for anything else.
pub fn to_bytes(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Bytes> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        let data = b.as_bytes();
        if data.len() < 256 {
            return Ok(Bytes::copy_from_slice(data));
        }
        return Ok(Bytes::from_owner(PyBackedBytes::from(b.clone())));
    }
    let buffer = PyBuffer::<u8>::get(obj).map_err(|_| {
        PyTypeError::new_err(format!(
            "{arg} must be a bytes-like object (bytes, bytearray, memoryview), not {}",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    Ok(Bytes::from(buffer.to_vec(obj.py())?))
}
