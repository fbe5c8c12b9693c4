//! Interpreter exit: no thread dies inside the binding while CPython finalizes.
//!
//! CPython 3.12 and 3.13 end every thread but the finalizing one with `pthread_exit` when
//! it next takes the GIL after finalization began (3.14 parks it instead). `pthread_exit`
//! unwinds the thread's stack, and an unwind cannot cross the binding's Rust frames: the
//! process aborts (SIGABRT, nothing on stderr). A daemon thread is exposed whenever it
//! gives up the GIL while a Rust frame is on its stack, which any Python code the binding
//! calls can do (`Future.set_result` schedules callbacks through `loop.call_soon`, Python
//! code that yields the GIL every switch interval).
//!
//! So an `atexit` hook ([`_shutdown`]) closes a gate, which runs before finalization
//! begins:
//! - **Python threads** enter the binding through [`enter`]: every method, getter and
//!   function Python can call starts with it, inserted by `#[gate::pymethods]` and
//!   `#[gate::pyfunction]` (the crate in `gate/`), and every callback made by
//!   [`callback`] (`clippy.toml` disallows `PyCFunction::new_closure`). The hook waits, without the GIL, until every thread inside
//!   has left (bounded); a thread other than the finalizing one that enters after that
//!   releases the GIL and parks for good, as 3.14 does. It never takes the GIL again, so
//!   it is never unwound.
//! - **Runtime threads** attach only through [`with_python`], which refuses once the
//!   gate is closed: nothing calls into a finalizing interpreter.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyCFunction;

/// How long the hook waits for threads inside the binding to leave.
const EXIT_WAIT: Duration = Duration::from_secs(2);

struct Gate {
    closed: AtomicBool,
    /// Threads with a binding frame on their stack (each counted once, however deep).
    inside: AtomicUsize,
    /// The thread that runs the `atexit` hook, and so finalizes: it is never parked.
    finalizer: OnceLock<ThreadId>,
}

static GATE: Gate = Gate {
    closed: AtomicBool::new(false),
    inside: AtomicUsize::new(0),
    finalizer: OnceLock::new(),
};

thread_local! {
    /// How many binding frames this thread has on its stack.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Proof that this thread is counted as inside the binding; leaving drops it.
#[must_use = "the thread counts as inside the binding only while this lives"]
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        let outermost = DEPTH.with(|d| {
            let depth = d.get().saturating_sub(1);
            d.set(depth);
            depth == 0
        });
        if outermost {
            GATE.inside.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Mark the calling Python thread as inside the binding until the result is dropped.
/// Called first by every function Python can call (the thread holds the GIL).
///
/// After interpreter exit began, a thread other than the finalizing one does not
/// return: it parks for good without the GIL (see the module documentation).
pub fn enter() -> Entered {
    let outermost = DEPTH.with(|d| {
        let depth = d.get();
        d.set(depth + 1);
        depth == 0
    });
    if outermost {
        GATE.inside.fetch_add(1, Ordering::SeqCst);
    }
    if GATE.closed.load(Ordering::SeqCst) && !is_finalizer() {
        park_for_good();
    }
    Entered(())
}

fn is_finalizer() -> bool {
    GATE.finalizer.get() == Some(&std::thread::current().id())
}

/// Leave the count (every frame of this thread at once) and park without the GIL.
#[cold]
fn park_for_good() -> ! {
    if DEPTH.with(|d| d.replace(0)) > 0 {
        GATE.inside.fetch_sub(1, Ordering::SeqCst);
    }
    // SAFETY: every caller of `enter` holds the GIL; the thread state is never
    // restored, so this thread never takes the GIL (nor touches Python) again.
    unsafe {
        pyo3::ffi::PyEval_SaveThread();
    }
    loop {
        std::thread::park();
    }
}

/// A Python callable (ignoring its arguments) that runs `f` inside the gate: the
/// binding's only way to make a closure Python can call (`clippy.toml` disallows
/// `PyCFunction::new_closure`).
pub fn callback<'py>(
    py: Python<'py>,
    f: impl Fn(Python<'_>) + Send + Sync + 'static,
) -> PyResult<Bound<'py, PyCFunction>> {
    #[allow(clippy::disallowed_methods)]
    PyCFunction::new_closure(py, None, None, move |args, _kwargs| {
        let _entered = enter();
        f(args.py());
    })
}

/// Run `f` with the interpreter attached, unless the interpreter is shutting down.
/// For runtime threads (they never hold a binding frame that Python called).
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

/// `atexit` hook: close the gate, then wait (bounded, without the GIL) for every thread
/// inside the binding to leave. The one function Python calls that does not enter the
/// gate: it closes it.
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    let _ = GATE.finalizer.set(std::thread::current().id());
    GATE.closed.store(true, Ordering::SeqCst);
    // This thread's own frames (the hook called from inside the binding) are not waited for.
    let own = usize::from(DEPTH.with(Cell::get) > 0);
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        while GATE.inside.load(Ordering::SeqCst) > own && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}
