//! `Vec<String>` iterates any sequence (its `__len__`, `__iter__`): refused, as is an
//! `Option` of it.
#![allow(unused)]

#[path = "binding/mod.rs"]
mod binding;
use binding::{args, operation, shutdown};

use pyo3::prelude::*;

#[gate::pyfunction]
#[pyo3(signature = (names, more = None))]
fn names(names: Vec<String>, more: Option<Vec<String>>) -> usize {
    names.len() + more.map_or(0, |m| m.len())
}

fn main() {}
