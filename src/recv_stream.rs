//! `RecvStream`: the receiving half of a WebTransport stream (RFC 9000 §3.2).
//!
//! Reads return the chunks quinn already holds (one copy, into the result `bytes`),
//! taking every chunk already buffered in one go. Bytes read from quinn wait in `stash`
//! until the completed read is delivered on the event loop's thread, which takes them
//! there; a read cancelled first takes nothing, so a cancelled read, an interrupted
//! `readexactly` or a `read(-1)` over its limit loses nothing and reorders nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use bytes::Bytes;
use futures::FutureExt;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::{watch, Mutex};
use web_transport_quinn as wtq;

use crate::args::{check_code, Int};
use crate::close_cause::CloseCause;
use crate::errors::Error;
use crate::operation::{spawn, Outcome};
use crate::stash::Stash;
use crate::stream_state::{close_locally, unless_closed};

pub struct RecvState {
    stream: Mutex<wtq::RecvStream>,
    stash: StdMutex<Stash>,
    eof: AtomicBool,
    stopped: AtomicBool,
    closed: watch::Sender<bool>,
    cause: CloseCause,
}

crate::stream_state::stream_state!(RecvState, wtq::RecvStream, received_reset);

impl Drop for RecvState {
    /// A stream dropped before its end sends STOP_SENDING with WebTransport code 0
    /// (mapped into the HTTP/3 space), not quinn's raw implicit code 0.
    fn drop(&mut self) {
        if self.eof.load(Ordering::SeqCst) || self.stopped.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(mut stream) = self.stream.try_lock() {
            let _ = stream.stop(0);
        }
    }
}

impl RecvState {
    fn stash(&self) -> std::sync::MutexGuard<'_, Stash> {
        self.stash.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stashed(&self) -> usize {
        self.stash().len
    }

    /// Read from quinn: wait for the first chunk, then take every further chunk that is
    /// already buffered, up to `max` bytes in all (one Python object per burst instead
    /// of one per packet). An empty result means the end of the stream. Interrupted by
    /// `stop()`.
    async fn next_chunks(&self, max: usize) -> Result<Vec<Bytes>, Error> {
        if self.eof.load(Ordering::SeqCst) {
            return Ok(Vec::new());
        }
        let mut rx = self.closed.subscribe();
        let read = unless_closed(&mut rx, async {
            let mut stream = self.stream.lock().await;
            let first = stream.read_chunk(max, true).await?;
            let Some(first) = first else {
                return Ok((Vec::new(), true));
            };
            let mut got = first.bytes.len();
            let mut parts = vec![first.bytes];
            let mut eof = false;
            while got < max {
                // quinn's read_chunk is cancel-safe: dropping it when not ready loses nothing.
                match stream.read_chunk(max - got, true).now_or_never() {
                    Some(Ok(Some(c))) => {
                        got += c.bytes.len();
                        parts.push(c.bytes);
                    }
                    Some(Ok(None)) => {
                        eof = true;
                        break;
                    }
                    // An error surfaces again on the next read, after these bytes.
                    Some(Err(_)) | None => break,
                }
            }
            Ok::<_, wtq::ReadError>((parts, eof))
        })
        .await
        .ok_or(Error::StreamClosedLocally(
            "the stream was stopped while reading",
        ))?;
        let (parts, eof) = read?;
        if eof {
            self.eof.store(true, Ordering::SeqCst);
        }
        Ok(parts)
    }

    /// Wait until the stash holds at least `need` bytes or the stream ended, reading
    /// bursts of at most `burst` bytes. With `limit`, fail once more than `limit` bytes
    /// are buffered (they stay readable).
    async fn fill(&self, need: usize, burst: usize, limit: Option<usize>) -> Result<(), Error> {
        loop {
            let have = self.stashed();
            if let Some(limit) = limit {
                if have > limit {
                    return Err(Error::TooLong { limit });
                }
            }
            if have >= need || self.eof.load(Ordering::SeqCst) {
                return Ok(());
            }
            let parts = self
                .next_chunks(burst.max(need.saturating_sub(have)))
                .await?;
            let mut stash = self.stash();
            for b in parts {
                stash.push_back(b);
            }
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Error::StreamClosedLocally("the stream was stopped"));
        }
        Ok(())
    }
}

/// What a completed read hands to Python.
enum Want {
    /// Up to `max` bytes; at the end of the stream `b""` or, for `async for`,
    /// `StopAsyncIteration`.
    Up { max: usize, end_stops: bool },
    /// Exactly `n` bytes, or `StreamIncompleteReadError` at the end of the stream.
    Exact(usize),
    /// Everything up to the end of the stream.
    All,
}

/// A completed read. The bytes stay in the stash until `into_py` runs on the event
/// loop's thread and takes them; a read cancelled before that takes nothing, so the next
/// read returns the same bytes in the same order.
struct Take {
    state: Arc<RecvState>,
    want: Want,
}

fn joined(py: Python<'_>, parts: &[Bytes]) -> PyResult<Py<PyAny>> {
    if let [one] = parts {
        return Ok(PyBytes::new(py, one).into_any().unbind());
    }
    let total = parts.iter().map(Bytes::len).sum();
    let bytes = PyBytes::new_with(py, total, |buf| {
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        Ok(())
    })?;
    Ok(bytes.into_any().unbind())
}

fn concurrent_read() -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(
        "another read on this RecvStream took the data: read from one task at a time",
    )
}

impl Outcome for Take {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let eof = self.state.eof.load(Ordering::SeqCst);
        let mut stash = self.state.stash();
        match self.want {
            Want::Up { max, end_stops } => {
                let parts = stash.take_parts(max);
                drop(stash);
                if !parts.is_empty() {
                    return joined(py, &parts);
                }
                if !eof {
                    return Err(concurrent_read());
                }
                if end_stops {
                    return Err(Error::EndOfIteration.into_pyerr(py));
                }
                Ok(PyBytes::new(py, b"").into_any().unbind())
            }
            Want::Exact(n) => {
                if stash.len >= n {
                    let parts = stash.take_parts(n);
                    drop(stash);
                    return joined(py, &parts);
                }
                if !eof {
                    return Err(concurrent_read());
                }
                let partial = stash.drain().concat();
                drop(stash);
                Err(Error::Incomplete {
                    expected: n,
                    partial: partial.into(),
                }
                .into_pyerr(py))
            }
            Want::All => {
                let parts = stash.drain();
                drop(stash);
                joined(py, &parts)
            }
        }
    }
}

/// A completed `readinto`: the bytes are copied out of the stash into the caller's
/// buffer on the event loop's thread (nothing is taken if the read was cancelled).
struct ReadInto {
    target: Py<PyAny>,
    state: Arc<RecvState>,
}

impl Outcome for ReadInto {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let target = self.target.bind(py);
        let buffer = PyBuffer::<u8>::get(target)?;
        if buffer.readonly() || !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err(
                "buffer changed while readinto was pending",
            ));
        }
        let parts = self.state.stash().take_parts(buffer.len_bytes());
        let mut at = 0usize;
        for p in &parts {
            // SAFETY: the buffer is writable and C-contiguous, `take_parts` returned at
            // most `len_bytes()` bytes in all, and the export held by `buffer` keeps the
            // memory in place (a bytearray cannot be resized while exported), with or
            // without a GIL.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    p.as_ptr(),
                    buffer.buf_ptr().cast::<u8>().add(at),
                    p.len(),
                );
            }
            at += p.len();
        }
        if at == 0 && buffer.len_bytes() > 0 && !self.state.eof.load(Ordering::SeqCst) {
            return Err(concurrent_read());
        }
        Ok(at.into_pyobject(py)?.into_any().unbind())
    }
}

#[pyclass(frozen, module = "web_transport")]
pub struct RecvStream {
    state: Arc<RecvState>,
}

impl RecvStream {
    pub fn new(stream: wtq::RecvStream, cause: CloseCause) -> Self {
        Self {
            state: Arc::new(RecvState {
                stream: Mutex::new(stream),
                stash: StdMutex::new(Stash::default()),
                eof: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
                closed: watch::channel(false).0,
                cause,
            }),
        }
    }

    /// `async with` exit: stop the stream (code 0) unless it reached its end.
    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let done = self.state.eof.load(Ordering::SeqCst) && self.state.stashed() == 0;
        if !done && !self.state.stopped.load(Ordering::SeqCst) {
            let _ = self.do_stop(0);
        }
        spawn(py, async { Ok(()) })
    }

    fn do_stop(&self, code: u32) -> Result<(), Error> {
        let stopped = &self.state.stopped;
        close_locally(
            &self.state,
            stopped,
            "the stream was already stopped",
            move |s| {
                let _ = s.stop(code);
            },
        )
    }

    /// The operation of every read but `readinto`: fill the stash (`fill`: at least
    /// `min`, at most `max` bytes, failing past `limit`), then take what `want` says when
    /// the result is delivered.
    fn take<'py>(
        &self,
        py: Python<'py>,
        fill: Option<(usize, usize, Option<usize>)>,
        want: Want,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.read_op(py, fill, move |state| Take { state, want })
    }

    /// The operation of every read: fill the stash as `fill` says, then hand the stream
    /// state to `outcome`, which takes the bytes when the result is delivered.
    fn read_op<'py, O: Outcome>(
        &self,
        py: Python<'py>,
        fill: Option<(usize, usize, Option<usize>)>,
        outcome: impl FnOnce(Arc<RecvState>) -> O + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>> {
        let open = self.state.check_open();
        let state = self.state.clone();
        spawn(
            py,
            self.state.cause.clone().with_real_cause(async move {
                open?;
                if let Some((min, max, limit)) = fill {
                    state.fill(min, max, limit).await?;
                }
                Ok(outcome(state))
            }),
        )
    }

    fn read_up_to<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        end_stops: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.take(py, Some((1, max, None)), Want::Up { max, end_stops })
    }
}

#[gate::pymethods(async_with = exit)]
impl RecvStream {
    /// Read up to `n` bytes (`-1`: until the end of the stream, at most `limit` bytes).
    #[pyo3(signature = (n = Int(-1), *, limit = None), text_signature = "(self, n=-1, *, limit=None)")]
    fn read<'py>(
        &self,
        py: Python<'py>,
        n: Int,
        limit: Option<Int>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (n, limit) = (n.0, limit.map(|l| l.0));
        if n < -1 {
            return Err(PyValueError::new_err(format!(
                "n must be -1 or >= 0, got {n}"
            )));
        }
        if let Some(l) = limit {
            if l < 0 {
                return Err(PyValueError::new_err(format!(
                    "limit must be >= 0, got {l}"
                )));
            }
        }
        if n >= 0 {
            let max = n as usize;
            if max == 0 {
                return self.take(py, None, Want::Exact(0));
            }
            return self.read_up_to(py, max, false);
        }
        let limit = limit.map(|l| l as usize);
        self.take(py, Some((usize::MAX, usize::MAX, limit)), Want::All)
    }

    /// Read exactly `n` bytes.
    fn readexactly<'py>(&self, py: Python<'py>, n: Int) -> PyResult<Bound<'py, PyAny>> {
        let n = n.0;
        let n = usize::try_from(n)
            .map_err(|_| PyValueError::new_err(format!("n must be >= 0, got {n}")))?;
        self.take(py, Some((n, n, None)), Want::Exact(n))
    }

    /// Read into a writable, C-contiguous bytes-like `buffer`; return the byte count
    /// (0 at the end of the stream).
    fn readinto<'py>(
        &self,
        py: Python<'py>,
        buffer: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let view = PyBuffer::<u8>::get(buffer).map_err(|_| {
            PyTypeError::new_err(
                "buffer must be a writable bytes-like object (bytearray, memoryview)",
            )
        })?;
        if view.readonly() {
            return Err(PyTypeError::new_err(
                "buffer must be writable (bytes is read-only)",
            ));
        }
        if !view.is_c_contiguous() {
            return Err(PyValueError::new_err("buffer must be C-contiguous"));
        }
        let max = view.len_bytes();
        drop(view);
        let target = buffer.clone().unbind();
        let fill = (max > 0).then_some((1, max, None));
        self.read_op(py, fill, move |state| ReadInto { target, state })
    }

    /// Ask the peer to stop sending (STOP_SENDING with `error_code`).
    #[pyo3(signature = (error_code = None), text_signature = "(self, error_code=0)")]
    fn stop(&self, error_code: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        Ok(self.do_stop(check_code("error_code", error_code)?)?)
    }

    /// Wait until the stream ends: `None` after the peer's FIN (all data received) or a
    /// local stop, or the peer's RESET_STREAM code.
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::stream_state::wait_closed(py, &self.state)
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read_up_to(py, 1 << 20, true)
    }
}
