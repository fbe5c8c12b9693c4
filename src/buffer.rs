//! Bytes-like arguments to `bytes::Bytes` without a Python-side copy.
//!
//! An immutable `bytes` object is shared with quinn as is (the `Bytes` keeps a reference
//! to it; dropping that reference off the GIL is deferred by PyO3). A mutable buffer
//! (bytearray, memoryview, array, numpy) is copied once in Rust, because the caller may
//! change it after `write` returns while quinn still needs the data for retransmission.

use bytes::Bytes;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

struct SharedBytes {
    _owner: Py<PyBytes>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the pointer is into an immutable `bytes` object kept alive by `_owner`; its
// contents never change and may be read from any thread.
unsafe impl Send for SharedBytes {}
// SAFETY: as for `Send`: shared references only read immutable memory.
unsafe impl Sync for SharedBytes {}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: see above; `len` is the object's size.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Convert a bytes-like object to `Bytes`; `TypeError` naming `arg` for anything else.
pub fn to_bytes(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Bytes> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        let data = b.as_bytes();
        if data.len() < 256 {
            return Ok(Bytes::copy_from_slice(data));
        }
        let shared = SharedBytes {
            ptr: data.as_ptr(),
            len: data.len(),
            _owner: b.clone().unbind(),
        };
        return Ok(Bytes::from_owner(shared));
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
