//! The tokio runtime and the bridge from Rust futures to asyncio futures.
//!
//! Every awaitable the package returns is an `asyncio.Future` created on the caller's
//! running loop. The Rust side is driven in two steps:
//!
//! 1. The Rust future is polled once, right away, on the calling thread (with a no-op
//!    waker, inside the runtime context). When the data is already buffered, as it
//!    usually is on a busy stream, the result is set on the asyncio future at once: no
//!    thread hop and no wake-up of the event loop.
//! 2. Otherwise the future is spawned on tokio. Its result goes into a per-loop queue;
//!    only the first completion of a batch calls `loop.call_soon_threadsafe`, and one
//!    drain on the loop resolves every completion queued by then.
//!
//! Cancelling the asyncio future aborts the tokio task. A result that arrives for an
//! already-cancelled future is handed back to its [`Outcome::abandon`], so a cancelled
//! read puts its data back for the next read instead of losing it.
//!
//! At interpreter exit an `atexit` hook closes [`GATE`]: after that no runtime thread
//! attaches to the interpreter again, so nothing can call into a finalizing Python.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use tokio::runtime::Runtime;

use crate::errors::Error;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process-wide multi-threaded tokio runtime, started on first use.
///
/// Worker threads: the machine's parallelism, capped at 4 (QUIC endpoints are driven by
/// one task each; more threads only add wake-up latency).
pub fn runtime() -> PyResult<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
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

// ---------------------------------------------------------------------------------------
// Outcomes: what a Rust future hands back to Python.

/// A value produced by a Rust future, converted to Python on the event loop's thread.
pub trait Outcome: Send + 'static {
    /// Convert to the Python result value.
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
    /// Called instead of [`Outcome::into_py`] when the awaiting future was cancelled.
    fn abandon(self)
    where
        Self: Sized,
    {
    }
}

impl Outcome for () {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl Outcome for usize {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.into_pyobject(py)?.into_any().unbind())
    }
}

impl Outcome for Option<u32> {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.into_pyobject(py)?.into_any().unbind())
    }
}

impl Outcome for Py<PyAny> {
    fn into_py(self, _py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self)
    }
}

/// An outcome built by a closure (for pyclass results created on the loop thread).
pub struct Build<T: Send + 'static>(pub T, pub fn(Python<'_>, T) -> PyResult<Py<PyAny>>);

impl<T: Send + 'static> Outcome for Build<T> {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        (self.1)(py, self.0)
    }
}

/// Object-safe form of [`Outcome`].
trait DynOutcome: Send {
    fn convert(self: Box<Self>, py: Python<'_>) -> PyResult<Py<PyAny>>;
    fn unused(self: Box<Self>);
}

impl<T: Outcome> DynOutcome for T {
    fn convert(self: Box<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        (*self).into_py(py)
    }
    fn unused(self: Box<Self>) {
        (*self).abandon();
    }
}

/// The result an asyncio future carries: the Rust outcome, converted only when the
/// awaiting [`Operation`] actually resumes. A task cancelled after the future completed
/// but before it resumed never converts it, so a read takes no data.
#[pyclass(frozen, module = "web_transport")]
struct Deferred(Mutex<Option<Box<dyn DynOutcome>>>);

impl Deferred {
    fn take(&self) -> Option<Box<dyn DynOutcome>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        if let Some(outcome) = self.take() {
            outcome.unused();
        }
    }
}

/// Type-erased completion queued for the event loop.
trait Completion: Send {
    fn complete(self: Box<Self>, py: Python<'_>, fut: &Bound<'_, PyAny>);
}

struct Done<T: Outcome>(Result<T, Error>);

impl<T: Outcome> Completion for Done<T> {
    fn complete(self: Box<Self>, py: Python<'_>, fut: &Bound<'_, PyAny>) {
        resolve(py, fut, self.0);
    }
}

fn resolve<T: Outcome>(py: Python<'_>, fut: &Bound<'_, PyAny>, result: Result<T, Error>) {
    let done = fut
        .call_method0(pyo3::intern!(py, "done"))
        .and_then(|d| d.is_truthy())
        .unwrap_or(true);
    if done {
        if let Ok(value) = result {
            value.abandon();
        }
        return;
    }
    let set = match result {
        Ok(value) => Bound::new(py, Deferred(Mutex::new(Some(Box::new(value)))))
            .and_then(|d| fut.call_method1(pyo3::intern!(py, "set_result"), (d,))),
        Err(err) => fut.call_method1(
            pyo3::intern!(py, "set_exception"),
            (err.into_pyerr(py).into_value(py),),
        ),
    };
    if let Err(err) = set {
        // Only possible if the future was resolved behind our back; report, never raise.
        err.write_unraisable(py, Some(fut));
    }
}

// ---------------------------------------------------------------------------------------
// Per-loop completion queues.

/// Completions waiting for a drain, and whether a drain is already scheduled.
type Pending = (Vec<(Py<PyAny>, Box<dyn Completion>)>, bool);

struct LoopQueue {
    event_loop: Py<PyAny>,
    items: Mutex<Pending>,
}

static QUEUES: OnceLock<Mutex<HashMap<usize, Weak<LoopQueue>>>> = OnceLock::new();

fn queue_for(event_loop: &Bound<'_, PyAny>) -> Arc<LoopQueue> {
    let key = event_loop.as_ptr() as usize;
    let map = QUEUES.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(queue) = map.get(&key).and_then(Weak::upgrade) {
        // The queue holds a strong reference to its loop, so the address cannot have been
        // reused by another loop while the queue is alive.
        return queue;
    }
    map.retain(|_, q| q.strong_count() > 0);
    let queue = Arc::new(LoopQueue {
        event_loop: event_loop.clone().unbind(),
        items: Mutex::new((Vec::new(), false)),
    });
    map.insert(key, Arc::downgrade(&queue));
    queue
}

impl LoopQueue {
    /// Queue a completion; wake the loop only if no drain is already scheduled.
    fn push(self: &Arc<Self>, fut: Py<PyAny>, completion: Box<dyn Completion>) {
        let wake = {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            items.0.push((fut, completion));
            !std::mem::replace(&mut items.1, true)
        };
        if !wake {
            return;
        }
        let queue = self.clone();
        with_python(move |py| {
            let drain = match drain_callback(py, queue.clone()) {
                Ok(d) => d,
                Err(err) => return err.write_unraisable(py, None),
            };
            // Fails only when the loop is closed: the awaiting futures are gone with it.
            let _ = queue
                .event_loop
                .bind(py)
                .call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (drain,));
        });
    }

    fn drain(&self, py: Python<'_>) {
        let items = {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            items.1 = false;
            std::mem::take(&mut items.0)
        };
        for (fut, completion) in items {
            completion.complete(py, fut.bind(py));
        }
    }
}

fn drain_callback(py: Python<'_>, queue: Arc<LoopQueue>) -> PyResult<Bound<'_, PyCFunction>> {
    PyCFunction::new_closure(py, None, None, move |args, _kwargs| {
        queue.drain(args.py());
    })
}

// ---------------------------------------------------------------------------------------
// The bridge.

struct Asyncio {
    get_running_loop: Py<PyAny>,
}

static ASYNCIO: PyOnceLock<Asyncio> = PyOnceLock::new();

fn asyncio(py: Python<'_>) -> PyResult<&Asyncio> {
    ASYNCIO.get_or_try_init(py, || {
        let module = py.import("asyncio")?;
        Ok(Asyncio {
            get_running_loop: module.getattr("get_running_loop")?.unbind(),
        })
    })
}

/// Cancels the tokio task when the asyncio future is cancelled.
#[pyclass(frozen)]
struct AbortOnCancel(tokio::task::AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// The awaitable every async method returns: a coroutine (registered as
/// `collections.abc.Coroutine`, so `asyncio.create_task` accepts it) over the
/// `asyncio.Future` that carries the result. `await` goes straight to the future.
#[pyclass(module = "web_transport", name = "Operation")]
pub struct Operation {
    future: Py<PyAny>,
    iter: Option<Py<PyAny>>,
    abort: Option<tokio::task::AbortHandle>,
}

impl Operation {
    fn iter<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(it) = &self.iter {
            return Ok(it.bind(py).clone());
        }
        let it = self
            .future
            .bind(py)
            .call_method0(pyo3::intern!(py, "__await__"))?;
        self.iter = Some(it.clone().unbind());
        Ok(it)
    }
}

impl Operation {
    /// Turn the future's final value into the real result, raising `StopIteration(result)`.
    fn finish(py: Python<'_>, stop: PyErr) -> PyErr {
        let value = match stop.value(py).getattr(pyo3::intern!(py, "value")) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let Ok(deferred) = value.cast::<Deferred>() else {
            return stop;
        };
        match deferred.get().take() {
            Some(outcome) => match outcome.convert(py) {
                Ok(result) => PyStopIteration::new_err((result,)),
                Err(err) => err,
            },
            None => PyRuntimeError::new_err("cannot reuse already awaited coroutine"),
        }
    }
}

#[pymethods]
impl Operation {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn send<'py>(
        &mut self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self
            .iter(py)?
            .call_method1(pyo3::intern!(py, "send"), (value,))
        {
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => Err(Self::finish(py, e)),
            other => other,
        }
    }

    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw<'py>(
        &mut self,
        py: Python<'py>,
        typ: &Bound<'py, PyAny>,
        val: Option<&Bound<'py, PyAny>>,
        tb: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // An exception thrown in (a task cancelled, even after the result arrived) means
        // nobody will take the result: cancel, or give an arrived result back unused.
        self.close(py)?;
        let it = self.iter(py)?;
        let thrown = match (val, tb) {
            (None, _) => it.call_method1(pyo3::intern!(py, "throw"), (typ,)),
            (Some(v), None) => it.call_method1(pyo3::intern!(py, "throw"), (typ, v)),
            (Some(v), Some(t)) => it.call_method1(pyo3::intern!(py, "throw"), (typ, v, t)),
        };
        match thrown {
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => Err(Self::finish(py, e)),
            other => other,
        }
    }

    /// Cancel the operation if it has not completed; give an unconsumed result back.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        let fut = self.future.bind(py);
        if !fut.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
            // Abort now, not when the done-callback runs: the task must not take a stream
            // or data that code running before the next loop iteration expects.
            if let Some(abort) = &self.abort {
                abort.abort();
            }
            fut.call_method0(pyo3::intern!(py, "cancel"))?;
            return Ok(());
        }
        if fut
            .call_method0(pyo3::intern!(py, "cancelled"))?
            .is_truthy()?
        {
            return Ok(());
        }
        if fut.call_method0(pyo3::intern!(py, "exception"))?.is_none() {
            let result = fut.call_method0(pyo3::intern!(py, "result"))?;
            if let Ok(deferred) = result.cast::<Deferred>() {
                if let Some(outcome) = deferred.get().take() {
                    outcome.unused();
                }
            }
        }
        Ok(())
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let none = py.None().into_bound(py);
        self.send(py, &none)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
}

fn operation<'py>(
    py: Python<'py>,
    future: Bound<'py, PyAny>,
    abort: Option<tokio::task::AbortHandle>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(Bound::new(
        py,
        Operation {
            future: future.unbind(),
            iter: None,
            abort,
        },
    )?
    .into_any())
}

/// Run `fut` and return an awaitable (an [`Operation`] over an `asyncio.Future` on the
/// running loop) that resolves to its outcome. Must be called with a running event loop.
pub fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Outcome,
{
    let event_loop = asyncio(py)?.get_running_loop.bind(py).call0()?;
    let py_fut = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let rt = runtime()?;

    // Fast path: poll once on this thread; most reads and writes on a busy stream are
    // ready now.
    let mut fut = Box::pin(fut);
    let first = {
        let _guard = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        fut.as_mut().poll(&mut cx)
    };
    if let Poll::Ready(result) = first {
        resolve(py, &py_fut, result);
        return operation(py, py_fut, None);
    }

    let queue = queue_for(&event_loop);
    let target = py_fut.clone().unbind();
    let handle = rt.spawn(async move {
        let result = fut.await;
        queue.push(target, Box::new(Done(result)));
    });
    let abort = Bound::new(py, AbortOnCancel(handle.abort_handle()))?;
    py_fut.call_method1(pyo3::intern!(py, "add_done_callback"), (abort,))?;
    operation(py, py_fut, Some(handle.abort_handle()))
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
