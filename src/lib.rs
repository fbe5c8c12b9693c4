//! `web_transport._web_transport`: the native module. Registration only; each Python
//! class lives in the file named after it.

use pyo3::prelude::*;

mod args;
mod buffer;
mod cert;
mod certificate_refusal;
mod client;
mod close_cause;
mod completion;
mod config;
mod datagram;
mod endpoint;
mod errors;
mod exceptions;
#[cfg(test)]
mod module_graph_tests;
mod new_stream;
mod operation;
mod recv_stream;
mod registry;
mod request;
mod runtime;
mod send_stream;
mod server;
mod session;
mod shutdown;
mod stash;
mod stats;
mod stream_state;
#[cfg(test)]
mod test_support;
mod tls;
mod udp_socket;
mod unclaimed;

/// `gil_used = false`: the module is safe without the GIL, so free-threaded CPython
/// (3.14t) keeps the GIL disabled when it is imported. A deliberate declaration, not
/// PyO3's default: docs/architecture.md ("Free threading") lists what makes it true, and
/// `.ci/free-threaded-check` builds against a free-threaded configuration.
#[pymodule(gil_used = false)]
fn _web_transport(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(cert::generate_self_signed, m)?)?;
    m.add_function(wrap_pyfunction!(cert::certificate_hash, m)?)?;
    m.add_class::<config::TransportConfig>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<request::SessionRequest>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<send_stream::SendStream>()?;
    m.add_class::<recv_stream::RecvStream>()?;
    m.add_class::<datagram::Datagrams>()?;
    m.add_class::<stats::SessionStats>()?;
    m.add_class::<operation::Operation>()?;
    // Let asyncio.create_task() and friends accept the awaitables the methods return.
    py.import("collections.abc")?
        .getattr("Coroutine")?
        .call_method1("register", (m.getattr("Operation")?,))?;

    // The exception classes are defined in Python; expose them here too, as PyPI
    // web-transport-quinn 0.1.0 did.
    let exceptions = exceptions::exceptions_module(py)?;
    let names = exceptions.getattr("__all__")?;
    for name in names.try_iter()? {
        let name: String = name?.extract()?;
        m.add(name.as_str(), exceptions.getattr(name.as_str())?)?;
    }

    // No thread may die inside the binding while the interpreter finalizes (shutdown.rs).
    let shutdown = wrap_pyfunction!(shutdown::_shutdown, m)?;
    py.import("atexit")?.call_method1("register", (shutdown,))?;
    Ok(())
}
