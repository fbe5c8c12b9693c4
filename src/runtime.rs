//! The process-wide tokio runtime and the interpreter-exit gate.
//!
//! The bridge from Rust futures to Python awaitables is in `operation.rs`; the per-loop
//! completion queues that wake the event loop are in `completion.rs`.
//!
//! At interpreter exit an `atexit` hook closes [`GATE`]: after that no runtime thread
//! attaches to the interpreter again, so nothing can call into a finalizing Python.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
    let _ = RUNTIME.set(rt);
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

// ---------------------------------------------------------------------------------------
// Exit gate: runtime threads only attach to the interpreter through it.

struct Gate {
    closed: AtomicBool,
    inside: AtomicUsize,
}

static GATE: Gate = Gate {
    closed: AtomicBool::new(false),
    inside: AtomicUsize::new(0),
};

/// Run `f` with the interpreter attached, unless the interpreter is shutting down.
pub fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    GATE.inside.fetch_add(1, Ordering::SeqCst);
    let result = if GATE.closed.load(Ordering::SeqCst) {
        None
    } else {
        Python::try_attach(f)
    };
    GATE.inside.fetch_sub(1, Ordering::SeqCst);
    result
}

/// `atexit` hook: close the gate and wait (bounded) for threads inside it to leave.
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    GATE.closed.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + Duration::from_secs(2);
        while GATE.inside.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Wait for `fut`, unless `signal` reports a local close first.
pub async fn unless_closed<F: Future>(
    signal: &mut tokio::sync::watch::Receiver<bool>,
    fut: F,
) -> Option<F::Output> {
    let fut = pin!(fut);
    tokio::select! {
        biased;
        _ = signal.wait_for(|closed| *closed) => None,
        out = fut => Some(out),
    }
}
