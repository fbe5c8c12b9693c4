//! The process-wide tokio runtime.
//!
//! The bridge from Rust futures to Python awaitables is in `operation.rs`; the per-loop
//! completion queues that wake the event loop are in `completion.rs`; what happens at
//! interpreter exit is in `shutdown.rs`; what a stream shares with its tasks is in
//! `stream_state.rs`.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Environment variable that sets the number of tokio worker threads (read once, when
/// the runtime starts on first use).
pub const WORKERS_ENV: &str = "WEB_TRANSPORT_WORKER_THREADS";

/// Worker threads when [`WORKERS_ENV`] is unset. One, measured (bench/README.md): quinn
/// drives each endpoint and each connection from one task, and the Python thread is the
/// busiest thread of the process; a second worker only adds work-stealing wake-ups and
/// competes with it for a core (W1 +60 %, W2 +35 % on 2 cores with one worker).
const DEFAULT_WORKERS: usize = 1;

/// The number of worker threads: [`WORKERS_ENV`] if it holds a number from 1 to 64,
/// else [`DEFAULT_WORKERS`].
fn worker_threads() -> usize {
    std::env::var(WORKERS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or(DEFAULT_WORKERS)
}

/// The process-wide multi-threaded tokio runtime, started on first use.
pub fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let workers = worker_threads();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("web-transport")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the tokio runtime: {e}")))?;
    // Two threads can get here at once (free-threaded CPython, or a GIL build where
    // building released the GIL): the first runtime stored wins, the other stops at once.
    if let Err(extra) = RUNTIME.set(rt) {
        extra.shutdown_background();
    }
    RUNTIME
        .get()
        .ok_or_else(|| PyRuntimeError::new_err("the tokio runtime did not start"))
}

/// Spawn a background task that has no result for Python (e.g. a deferred stop/reset).
pub fn spawn_detached<F>(fut: F) -> PyResult<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    runtime()?.spawn(fut);
    Ok(())
}
