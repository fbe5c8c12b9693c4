//! Per-loop completion queues: how results computed on tokio reach the asyncio loop.
//!
//! Each event loop gets one [`LoopQueue`]. A runtime worker pushes a completion (the
//! awaiting `asyncio.Future` and the Rust result) and wakes the loop only when the queue
//! goes from empty to non-empty; one drain on the loop's thread resolves every completion
//! queued by then.
//!
//! How the loop is woken:
//! - **A socketpair, without the GIL** (Unix, loops with `add_reader`: the default
//!   selector loop and uvloop). The queue's read end is registered once with
//!   `loop.add_reader`; a worker wakes the loop with one non-blocking `send(2)` of one
//!   byte. Workers never take the GIL, so they never queue behind the loop's thread.
//! - **`loop.call_soon_threadsafe`** otherwise (Windows' proactor loop, loops without
//!   `add_reader`): the worker takes the GIL for that call.
//!
//! Lifetime: the reader callback holds its queue, and the loop holds the callback until
//! `loop.close()` drops its selector's registrations, which closes the read end. Tasks
//! in flight hold the queue too (each with a future of that loop, which keeps the loop
//! and so its address alive): the map of queues, keyed by the loop's address, never
//! hands a queue to another loop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use pyo3::prelude::*;

use crate::shutdown::with_python;

/// A completed Rust future, resolved on the loop's thread.
pub trait Completion: Send {
    fn complete(self: Box<Self>, py: Python<'_>, fut: &Bound<'_, PyAny>);
}

/// Completions waiting for a drain, and whether a wake-up is already on its way.
type Queued = (Vec<(Py<PyAny>, Box<dyn Completion>)>, bool);

enum Wake {
    /// Write end of the socketpair whose read end the loop watches.
    #[cfg(unix)]
    Socket(std::os::fd::OwnedFd),
    /// The loop itself, for `call_soon_threadsafe`.
    Threadsafe(Py<PyAny>),
}

pub struct LoopQueue {
    items: Mutex<Queued>,
    wake: Wake,
    /// A weak reference to the loop the queue was made for (`None` if the loop type has
    /// no weak references): a later loop at the same address must not get this queue.
    owner: Option<Py<PyAny>>,
}

impl LoopQueue {
    /// Whether this queue was made for `event_loop` (the very object, not its address).
    fn belongs_to(&self, event_loop: &Bound<'_, PyAny>) -> bool {
        match &self.owner {
            Some(weak) => weak
                .bind(event_loop.py())
                .call0()
                .is_ok_and(|referent| referent.is(event_loop)),
            None => true,
        }
    }
}

/// A weak reference to `event_loop`, if its type allows one.
fn weak_owner(event_loop: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
    pyo3::types::PyWeakrefReference::new(event_loop)
        .ok()
        .map(|w| w.into_any().unbind())
}

static QUEUES: OnceLock<Mutex<HashMap<usize, Weak<LoopQueue>>>> = OnceLock::new();

/// The queue of `event_loop`, created (and registered with the loop) on first use.
/// Called on the loop's thread.
pub fn queue_for(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<LoopQueue>> {
    let key = event_loop.as_ptr() as usize;
    let map = QUEUES.get_or_init(Default::default);
    let lock = || map.lock().unwrap_or_else(|p| p.into_inner());
    let known = lock().get(&key).and_then(Weak::upgrade);
    if let Some(queue) = known.filter(|q| q.belongs_to(event_loop)) {
        return Ok(queue);
    }
    // Made without the map's lock: registering the reader runs Python code that releases
    // the GIL (epoll_ctl), and another thread holding the GIL may be waiting for the map.
    // Only this loop's thread makes its queue, so no other thread races this insert.
    let queue = new_queue(event_loop)?;
    let mut map = lock();
    map.retain(|_, q| q.strong_count() > 0);
    map.insert(key, Arc::downgrade(&queue));
    Ok(queue)
}

#[cfg(unix)]
fn new_queue(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<LoopQueue>> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    let py = event_loop.py();
    let pair = UnixStream::pair().and_then(|(w, r)| {
        w.set_nonblocking(true)?;
        r.set_nonblocking(true)?;
        Ok((w, r))
    });
    let Ok((write_end, read_end)) = pair else {
        return Ok(threadsafe_queue(event_loop));
    };
    let fd = read_end.as_raw_fd();
    let queue = Arc::new(LoopQueue {
        items: Mutex::new((Vec::new(), false)),
        wake: Wake::Socket(write_end.into()),
        owner: weak_owner(event_loop),
    });
    let held = queue.clone();
    let on_readable = crate::shutdown::callback(py, move |py| {
        let mut buf = [0u8; 64];
        while matches!((&read_end).read(&mut buf), Ok(n) if n > 0) {}
        held.drain(py);
    })?;
    match event_loop.call_method1(pyo3::intern!(py, "add_reader"), (fd, on_readable)) {
        Ok(_) => Ok(queue),
        // NotImplementedError (proactor) or anything else: fall back. The closure (and
        // with it the read end) is dropped here.
        Err(_) => Ok(threadsafe_queue(event_loop)),
    }
}

#[cfg(not(unix))]
fn new_queue(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<LoopQueue>> {
    Ok(threadsafe_queue(event_loop))
}

fn threadsafe_queue(event_loop: &Bound<'_, PyAny>) -> Arc<LoopQueue> {
    Arc::new(LoopQueue {
        items: Mutex::new((Vec::new(), false)),
        wake: Wake::Threadsafe(event_loop.clone().unbind()),
        owner: weak_owner(event_loop),
    })
}

impl LoopQueue {
    /// Queue a completion (from any thread); wake the loop if no wake-up is pending.
    pub fn push(self: &Arc<Self>, fut: Py<PyAny>, completion: Box<dyn Completion>) {
        let wake = {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            items.0.push((fut, completion));
            !std::mem::replace(&mut items.1, true)
        };
        if !wake {
            return;
        }
        match &self.wake {
            #[cfg(unix)]
            Wake::Socket(fd) => {
                use std::os::fd::AsRawFd;
                // Fails only when the loop was closed (the read end is gone with it) or
                // when unread bytes fill the buffer (the loop wakes anyway).
                // A signal handled on this thread interrupts the send: retry, or the
                // loop would never hear of this completion.
                loop {
                    // SAFETY: a valid, open socket and a one-byte buffer.
                    let sent = unsafe {
                        libc::send(
                            fd.as_raw_fd(),
                            [1u8].as_ptr().cast(),
                            1,
                            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                        )
                    };
                    if sent >= 0
                        || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                    {
                        break;
                    }
                }
            }
            Wake::Threadsafe(event_loop) => {
                let queue = self.clone();
                with_python(move |py| {
                    let drain = match crate::shutdown::callback(py, {
                        let queue = queue.clone();
                        move |py| queue.drain(py)
                    }) {
                        Ok(d) => d,
                        Err(err) => return err.write_unraisable(py, None),
                    };
                    // Fails only when the loop is closed: the awaiting futures are gone.
                    let _ = event_loop
                        .bind(py)
                        .call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (drain,));
                });
            }
        }
    }

    /// Resolve every queued completion (on the loop's thread).
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
