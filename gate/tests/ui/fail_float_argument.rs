//! An argument whose extraction may run Python code (`f64` calls `__float__`) does not
//! compile: it would run before the gate.
#![allow(unused)]

#[path = "binding/mod.rs"]
mod binding;
use binding::{args, operation, shutdown};

use pyo3::prelude::*;

#[pyclass(frozen)]
struct Thing;

#[gate::pymethods]
impl Thing {
    fn wait(&self, timeout: f64) -> bool {
        timeout > 0.0
    }
}

fn main() {}
