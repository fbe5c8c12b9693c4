//! `#[gate::pymethods]` takes one option, `async_with`.
#![allow(unused)]

#[path = "binding/mod.rs"]
mod binding;
use binding::{args, operation, shutdown};

use pyo3::prelude::*;

#[pyclass(frozen)]
struct Thing;

#[gate::pymethods(async_width = exit)]
impl Thing {}

fn main() {}
