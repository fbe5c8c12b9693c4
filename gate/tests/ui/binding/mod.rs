//! What the gate's expansion names in the binding (`crate::args`, `crate::shutdown`,
//! `crate::operation`): the real `src/args.rs`, and stand-ins for the exit gate (which
//! counts the calls that entered) and for `resolve_to_self`.

#[path = "../../../../src/args.rs"]
pub mod args;

pub mod shutdown {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// How many calls entered the gate.
    pub static ENTERED: AtomicUsize = AtomicUsize::new(0);

    pub struct Entered;

    pub fn enter() -> Entered {
        ENTERED.fetch_add(1, Ordering::SeqCst);
        Entered
    }
}

pub mod operation {
    use pyo3::prelude::*;

    pub fn resolve_to_self<'py, T>(slf: &Bound<'py, T>) -> PyResult<Bound<'py, PyAny>> {
        Ok(slf.clone().into_any())
    }
}
