//! Every kind of entry point enters the gate once; quiet arguments, signature defaults
//! and text signatures pass through unchanged; a result that allocates is converted in
//! the body; `async_with` adds `__aenter__`/`__aexit__`.
#![allow(unused)]

#[path = "binding/mod.rs"]
mod binding;
use binding::{args, operation, shutdown};

use std::sync::atomic::Ordering;

use args::{Int, Seconds, Strings};
use pyo3::prelude::*;
use pyo3::types::PyDict;

#[pyclass(frozen)]
struct Thing {
    timeout: f64,
}

#[gate::pymethods(async_with = exit)]
impl Thing {
    #[new]
    #[pyo3(signature = (*, timeout = Seconds(1.0)), text_signature = "(*, timeout=1.0)")]
    fn new(timeout: Seconds) -> Self {
        Self { timeout: timeout.0 }
    }

    #[pyo3(signature = (n, names = None, code = None))]
    fn pair(
        &self,
        n: Int,
        names: Option<Strings>,
        code: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(i64, usize)> {
        let _ = code;
        Ok((n.0, names.map_or(0, |s| s.0.len())))
    }

    #[getter]
    fn timeout(&self) -> f64 {
        self.timeout
    }

    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

#[gate::pyfunction]
#[pyo3(signature = (names, *, flag = false))]
fn count(names: Strings, flag: bool) -> Vec<String> {
    let _ = flag;
    names.0
}

fn main() -> PyResult<()> {
    Python::initialize();
    Python::attach(|py| {
        let locals = PyDict::new(py);
        locals.set_item("Thing", py.get_type::<Thing>())?;
        locals.set_item("count", wrap_pyfunction!(count, py)?)?;
        let entered = || shutdown::ENTERED.load(Ordering::SeqCst);
        let calls = |code: &std::ffi::CStr| -> PyResult<usize> {
            let before = entered();
            py.run(code, None, Some(&locals))?;
            Ok(entered() - before)
        };
        assert_eq!(calls(c"t = Thing(timeout=2)")?, 1);
        assert_eq!(calls(c"assert t.timeout == 2.0")?, 1);
        assert_eq!(calls(c"assert t.pair(3, ('a', 'b')) == (3, 2)")?, 1);
        assert_eq!(calls(c"assert count(['x'], flag=True) == ['x']")?, 1);
        assert_eq!(
            calls(c"assert Thing.__text_signature__ == '(*, timeout=1.0)', Thing.__text_signature__")?,
            0
        );
        assert_eq!(calls(c"assert t.__aenter__() is t, t.__aenter__()")?, 1);
        assert_eq!(calls(c"assert t.__aexit__(None, None, None) is None")?, 2);
        // A refused argument never reaches the body: no entry.
        assert_eq!(
            calls(c"
try:
    count('not a list')
except TypeError as e:
    assert 'expected a list of str, got str' in str(e), e
    assert e.__notes__ == [\"while processing 'names'\"], e.__notes__
else:
    raise AssertionError('accepted')
")?,
            0
        );
        Ok(())
    })
}
