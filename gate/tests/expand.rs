//! Expansion tests of `#[gate::pymethods]` and `#[gate::pyfunction]` (trybuild): each
//! `ui/pass_*.rs` compiles and runs (its `main` calls the entry points through Python
//! and checks they entered the gate), each `ui/fail_*.rs` fails to compile with the
//! error recorded beside it (`.stderr`). The files stand on the binding's real
//! `src/args.rs` and a stand-in for the rest of what the gate names (`ui/binding/`).
//! After a deliberate change of an error, record it again with
//! `TRYBUILD=overwrite cargo test -p web-transport-py-gate`.

#[test]
fn expansion() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    cases.compile_fail("tests/ui/fail_*.rs");
}
