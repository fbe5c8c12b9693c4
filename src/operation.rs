//! `Operation`: the awaitable every asynchronous method returns, and the bridge from a
//! Rust future to it.
//!
//! 1. The Rust future is polled once, right away, on the calling thread (with a no-op
//!    waker, inside the runtime context). When it is ready, as reads of buffered data,
//!    writes with flow-control credit and datagram sends usually are, the `Operation`
//!    holds the outcome itself: no asyncio future, no thread hop, no loop wake-up. The
//!    first `send()` (the `await`) converts it and returns.
//! 2. Otherwise the future is spawned on tokio and the `Operation` wraps an
//!    `asyncio.Future` of the running loop, resolved through the loop's completion queue
//!    (`completion.rs`).
//!
//! Either way the outcome is converted only when the awaiting task resumes. An
//! `Operation` closed, thrown into or dropped before that hands the outcome to
//! [`Outcome::abandon`]: a cancelled read leaves its bytes for the next read, a cancelled
//! accept leaves its stream for the next accept. Cancelling the asyncio future aborts
//! the tokio task.

use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use pyo3::exceptions::{PyBaseException, PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::completion::{queue_for, Completion};
use crate::errors::Error;
use crate::runtime::runtime;

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
        // The future was resolved behind our back. Cancelled from another thread between
        // `done()` and here (free-threaded CPython runs both at once): the outcome went
        // back unused with the dropped `Deferred`, nothing to report. Otherwise report,
        // never raise.
        let cancelled = fut
            .call_method0(pyo3::intern!(py, "cancelled"))
            .and_then(|c| c.is_truthy())
            .unwrap_or(false);
        if !cancelled {
            err.write_unraisable(py, Some(fut));
        }
    }
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

#[gate::pymethods]
impl AbortOnCancel {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// The awaitable every async method returns: a coroutine (registered as
/// `collections.abc.Coroutine`, so `asyncio.create_task` accepts it). A ready one holds
/// its outcome; a pending one wraps the `asyncio.Future` that will carry it.
///
/// Frozen, with its state behind a mutex taken with `try_lock`: a second thread driving
/// the same coroutine at once (free-threaded CPython; or a GIL build while the first
/// thread is inside Python code) gets CPython's own error for that, `ValueError:
/// coroutine already executing`, instead of PyO3's borrow error; and no thread ever
/// blocks on the lock while attached to the interpreter.
#[pyclass(frozen, module = "web_transport", name = "Operation")]
pub struct Operation {
    state: Mutex<State>,
}

enum State {
    /// Completed on the first poll; `None` once taken (awaited, closed or thrown into).
    Ready(ReadyOutcome),
    /// Waiting on tokio, through an asyncio future of the loop.
    Spawned {
        future: Py<PyAny>,
        iter: Option<Py<PyAny>>,
        abort: tokio::task::AbortHandle,
    },
}

impl Drop for Operation {
    fn drop(&mut self) {
        // Releasing the asyncio future can run Python code (an unretrieved exception is
        // logged), so the thread counts as inside the binding until it is released. (A
        // pyclass's Drop runs from its dealloc, which no attribute of ours wraps.)
        let _entered = crate::shutdown::enter();
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        let state = std::mem::replace(state, State::Ready(None));
        if let State::Ready(Some(Ok(outcome))) = state {
            outcome.unused();
        }
    }
}

type ReadyOutcome = Option<Result<Box<dyn DynOutcome>, Error>>;

/// Turn a pending future's final value into the real result: `StopIteration(result)`.
fn finish(py: Python<'_>, stop: PyErr) -> PyErr {
    let value = match stop.value(py).getattr(pyo3::intern!(py, "value")) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Ok(deferred) = value.cast::<Deferred>() else {
        return stop;
    };
    match deferred.get().take() {
        Some(outcome) => stop_with(py, outcome),
        None => reused(),
    }
}

fn stop_with(py: Python<'_>, outcome: Box<dyn DynOutcome>) -> PyErr {
    match outcome.convert(py) {
        Ok(result) => PyStopIteration::new_err((result,)),
        Err(err) => err,
    }
}

fn reused() -> PyErr {
    PyRuntimeError::new_err("cannot reuse already awaited coroutine")
}

/// The exception `throw(typ, val)` raises, built as a generator's `throw` would.
fn thrown(typ: &Bound<'_, PyAny>, val: Option<&Bound<'_, PyAny>>) -> PyErr {
    let val = val.filter(|v| !v.is_none());
    if let Some(v) = val.filter(|v| v.is_instance_of::<PyBaseException>()) {
        return PyErr::from_value(v.clone());
    }
    if typ.is_instance_of::<PyBaseException>() {
        return PyErr::from_value(typ.clone());
    }
    let made = match val {
        Some(v) => typ.call1((v,)),
        None => typ.call0(),
    };
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

impl Operation {
    /// The state, for one caller at a time (see the type's documentation).
    fn state(&self) -> PyResult<std::sync::MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(state) => Ok(state),
            Err(std::sync::TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Err(
                pyo3::exceptions::PyValueError::new_err("coroutine already executing"),
            ),
        }
    }

    fn pending_iter<'py>(
        py: Python<'py>,
        future: &Py<PyAny>,
        iter: &mut Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(it) = iter {
            return Ok(it.bind(py).clone());
        }
        let it = future
            .bind(py)
            .call_method0(pyo3::intern!(py, "__await__"))?;
        *iter = Some(it.clone().unbind());
        Ok(it)
    }
}

#[gate::pymethods]
impl Operation {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let none = py.None().into_bound(py);
        self.send(py, &none)
    }

    fn send<'py>(&self, py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match &mut *self.state()? {
            State::Ready(ready) => match ready.take() {
                Some(Ok(outcome)) => Err(stop_with(py, outcome)),
                Some(Err(err)) => Err(err.into_pyerr(py)),
                None => Err(reused()),
            },
            State::Spawned { future, iter, .. } => {
                match Self::pending_iter(py, future, iter)?
                    .call_method1(pyo3::intern!(py, "send"), (value,))
                {
                    Err(e) if e.is_instance_of::<PyStopIteration>(py) => Err(finish(py, e)),
                    other => other,
                }
            }
        }
    }

    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw<'py>(
        &self,
        py: Python<'py>,
        typ: &Bound<'py, PyAny>,
        val: Option<&Bound<'py, PyAny>>,
        tb: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut state = self.state()?;
        // An exception thrown in (a task cancelled, even after the result arrived) means
        // nobody will take the result: cancel, or give an arrived result back unused.
        close_state(py, &mut state)?;
        let State::Spawned { future, iter, .. } = &mut *state else {
            return Err(thrown(typ, val));
        };
        let it = Self::pending_iter(py, future, iter)?;
        let thrown = match (val, tb) {
            (None, _) => it.call_method1(pyo3::intern!(py, "throw"), (typ,)),
            (Some(v), None) => it.call_method1(pyo3::intern!(py, "throw"), (typ, v)),
            (Some(v), Some(t)) => it.call_method1(pyo3::intern!(py, "throw"), (typ, v, t)),
        };
        match thrown {
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => Err(finish(py, e)),
            other => other,
        }
    }

    /// Cancel the operation if it has not completed; give an unconsumed result back.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        close_state(py, &mut *self.state()?)
    }
}

/// `Operation.close` on the locked state (also the first step of `throw`).
fn close_state(py: Python<'_>, state: &mut State) -> PyResult<()> {
    let (future, abort) = match state {
        State::Ready(ready) => {
            if let Some(Ok(outcome)) = ready.take() {
                outcome.unused();
            }
            return Ok(());
        }
        State::Spawned { future, abort, .. } => (future.bind(py), abort),
    };
    if !future
        .call_method0(pyo3::intern!(py, "done"))?
        .is_truthy()?
    {
        // Abort now, not when the done-callback runs: the task must not take a stream
        // or data that code running before the next loop iteration expects.
        abort.abort();
        future.call_method0(pyo3::intern!(py, "cancel"))?;
        return Ok(());
    }
    if future
        .call_method0(pyo3::intern!(py, "cancelled"))?
        .is_truthy()?
    {
        return Ok(());
    }
    if future
        .call_method0(pyo3::intern!(py, "exception"))?
        .is_none()
    {
        let result = future.call_method0(pyo3::intern!(py, "result"))?;
        if let Ok(deferred) = result.cast::<Deferred>() {
            if let Some(outcome) = deferred.get().take() {
                outcome.unused();
            }
        }
    }
    Ok(())
}

/// Run `fut` and return an awaitable [`Operation`] that resolves to its outcome. Must be
/// called on a thread with a running event loop.
pub fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Outcome,
{
    let event_loop = asyncio(py)?.get_running_loop.bind(py).call0()?;
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
        let ready = result.map(|v| Box::new(v) as Box<dyn DynOutcome>);
        return Ok(Bound::new(
            py,
            Operation {
                state: Mutex::new(State::Ready(Some(ready))),
            },
        )?
        .into_any());
    }

    let py_fut = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let queue = queue_for(&event_loop)?;
    let target = py_fut.clone().unbind();
    let handle = rt.spawn(async move {
        let result = fut.await;
        queue.push(target, Box::new(Done(result)));
    });
    let abort = Bound::new(py, AbortOnCancel(handle.abort_handle()))?;
    py_fut.call_method1(pyo3::intern!(py, "add_done_callback"), (abort,))?;
    Ok(Bound::new(
        py,
        Operation {
            state: Mutex::new(State::Spawned {
                future: py_fut.unbind(),
                iter: None,
                abort: handle.abort_handle(),
            }),
        },
    )?
    .into_any())
}

/// The awaitable `__aenter__` returns: it resolves to `slf` itself (every async context
/// manager of the package).
pub fn resolve_to_self<'py, T: pyo3::PyClass>(slf: &Bound<'py, T>) -> PyResult<Bound<'py, PyAny>> {
    let this = slf.clone().into_any().unbind();
    spawn(slf.py(), async move { Ok(this) })
}
