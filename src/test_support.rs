//! Helpers for the crate's unit tests.

use pyo3::prelude::*;

/// Start an interpreter that can import `web_transport._exceptions` from the source
/// tree without the (possibly unbuilt) native module: a bare package object stands in
/// for `web_transport`.
pub fn with_py<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    Python::initialize();
    Python::attach(|py| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python/web_transport");
        let sys = py.import("sys").expect("sys");
        let modules = sys.getattr("modules").expect("sys.modules");
        if !modules.contains("web_transport").expect("contains") {
            let package = PyModule::new(py, "web_transport").expect("module");
            package.setattr("__path__", vec![dir]).expect("__path__");
            modules
                .set_item("web_transport", package)
                .expect("register");
        }
        f(py)
    })
}
