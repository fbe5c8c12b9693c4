//! `RecvStream`: the receiving half of a WebTransport stream (RFC 9000 §3.2).
//!
//! Reads return the chunks quinn already holds (one copy, into the result `bytes`).
//! Data read from quinn but not yet handed to Python lives in `stash`: a read cancelled
//! after its data arrived, a `readexactly` interrupted half-way or a `read(-1)` over its
//! limit leave their bytes there, and the next read returns them first. Nothing is lost.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use bytes::Bytes;
use futures::FutureExt;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use tokio::sync::{watch, Mutex};
use web_transport_quinn as wtq;

use crate::errors::{check_code, Error};
use crate::runtime::{spawn, spawn_detached, unless_closed, Outcome};

pub struct RecvState {
    stream: Mutex<wtq::RecvStream>,
    stash: StdMutex<Stash>,
    eof: AtomicBool,
    stopped: AtomicBool,
    closed: watch::Sender<bool>,
}

/// Bytes taken from quinn but not yet returned, with their total length.
#[derive(Default)]
struct Stash {
    chunks: VecDeque<Bytes>,
    len: usize,
}

impl Stash {
    fn push_back(&mut self, b: Bytes) {
        self.len += b.len();
        self.chunks.push_back(b);
    }

    fn push_front(&mut self, b: Bytes) {
        self.len += b.len();
        self.chunks.push_front(b);
    }

    fn take(&mut self, max: usize) -> Option<Bytes> {
        let front = self.chunks.front_mut()?;
        let b = if front.len() <= max {
            self.chunks.pop_front()?
        } else {
            front.split_to(max)
        };
        self.len -= b.len();
        Some(b)
    }

    fn drain(&mut self) -> Vec<Bytes> {
        self.len = 0;
        self.chunks.drain(..).collect()
    }
}

impl RecvState {
    fn stash(&self) -> std::sync::MutexGuard<'_, Stash> {
        self.stash.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stashed(&self) -> usize {
        self.stash().len
    }

    /// Take up to `max` bytes from the front of the stash.
    fn take(&self, max: usize) -> Option<Bytes> {
        self.stash().take(max)
    }

    /// Take exactly `n` bytes from the stash (the caller checked there are enough).
    fn take_exact(&self, n: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            match self.take(left) {
                Some(b) => {
                    left -= b.len();
                    out.push(b);
                }
                None => break,
            }
        }
        out
    }

    fn take_all(&self) -> Vec<Bytes> {
        self.stash().drain()
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

    fn check_open(&self) -> Result<(), Error> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Error::StreamClosedLocally("the stream was stopped"));
        }
        Ok(())
    }
}

/// Chunks on their way to Python as one `bytes`; put back if the read was cancelled.
struct Chunks {
    parts: Vec<Bytes>,
    state: Arc<RecvState>,
}

impl Outcome for Chunks {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let [one] = self.parts.as_slice() {
            return Ok(PyBytes::new(py, one).into_any().unbind());
        }
        let total = self.parts.iter().map(Bytes::len).sum();
        let bytes = PyBytes::new_with(py, total, |buf| {
            let mut at = 0;
            for p in &self.parts {
                buf[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            Ok(())
        })?;
        Ok(bytes.into_any().unbind())
    }

    fn abandon(self) {
        let mut stash = self.state.stash();
        for p in self.parts.into_iter().rev() {
            stash.push_front(p);
        }
    }
}

/// A chunk to copy into a caller's buffer (`readinto`).
struct Into {
    data: Bytes,
    target: Py<PyAny>,
    state: Arc<RecvState>,
}

impl Outcome for Into {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let target = self.target.bind(py);
        let buffer = PyBuffer::<u8>::get(target)?;
        if buffer.readonly() || !buffer.is_c_contiguous() || buffer.len_bytes() < self.data.len() {
            self.state.stash().push_front(self.data);
            return Err(PyValueError::new_err(
                "buffer changed while readinto was pending",
            ));
        }
        // SAFETY: the buffer is writable, C-contiguous and at least `data.len()` bytes,
        // and the GIL is held while we copy.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.data.as_ptr(),
                buffer.buf_ptr() as *mut u8,
                self.data.len(),
            );
        }
        Ok(self.data.len().into_pyobject(py)?.into_any().unbind())
    }

    fn abandon(self) {
        self.state.stash().push_front(self.data);
    }
}

#[pyclass(frozen, module = "web_transport")]
pub struct RecvStream {
    state: Arc<RecvState>,
}

impl RecvStream {
    pub fn new(stream: wtq::RecvStream) -> Self {
        Self {
            state: Arc::new(RecvState {
                stream: Mutex::new(stream),
                stash: StdMutex::new(Stash::default()),
                eof: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
                closed: watch::channel(false).0,
            }),
        }
    }

    fn do_stop(&self, code: u32) -> Result<(), Error> {
        if self.state.stopped.swap(true, Ordering::SeqCst) {
            return Err(Error::StreamClosedLocally("the stream was already stopped"));
        }
        self.state.closed.send_replace(true);
        match self.state.stream.try_lock() {
            Ok(mut s) => {
                let _ = s.stop(code);
            }
            Err(_) => {
                let state = self.state.clone();
                spawn_detached(async move {
                    let _ = state.stream.lock().await.stop(code);
                })
                .map_err(|e| Error::Runtime(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn read_chunk<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        eof_err: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let open = self.state.check_open();
        let state = self.state.clone();
        spawn(py, async move {
            open?;
            let parts = match state.take(max) {
                Some(b) => vec![b],
                None => state.next_chunks(max).await?,
            };
            if parts.is_empty() && eof_err {
                return Err(Error::EndOfIteration);
            }
            Ok(Chunks { parts, state })
        })
    }
}

#[pymethods]
impl RecvStream {
    /// Read up to `n` bytes (`-1`: until the end of the stream, at most `limit` bytes).
    #[pyo3(signature = (n = -1, *, limit = None))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        n: i64,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
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
            if n == 0 {
                let state = self.state.clone();
                return spawn(py, async move {
                    Ok(Chunks {
                        parts: vec![],
                        state,
                    })
                });
            }
            return self.read_chunk(py, n as usize, false);
        }
        let limit = limit.map(|l| l as usize);
        let open = self.state.check_open();
        let state = self.state.clone();
        spawn(py, async move {
            open?;
            loop {
                let have = state.stashed();
                if let Some(limit) = limit {
                    if have > limit {
                        return Err(Error::TooLong { limit });
                    }
                }
                let parts = state.next_chunks(usize::MAX).await?;
                if parts.is_empty() {
                    break;
                }
                let mut stash = state.stash();
                for b in parts {
                    stash.push_back(b);
                }
            }
            Ok(Chunks {
                parts: state.take_all(),
                state,
            })
        })
    }

    /// Read exactly `n` bytes.
    fn readexactly<'py>(&self, py: Python<'py>, n: i64) -> PyResult<Bound<'py, PyAny>> {
        let n = usize::try_from(n)
            .map_err(|_| PyValueError::new_err(format!("n must be >= 0, got {n}")))?;
        let open = self.state.check_open();
        let state = self.state.clone();
        spawn(py, async move {
            open?;
            while state.stashed() < n {
                let parts = state.next_chunks(n - state.stashed()).await?;
                if !parts.is_empty() {
                    let mut stash = state.stash();
                    for b in parts {
                        stash.push_back(b);
                    }
                    continue;
                }
                let partial = state.take_all().concat();
                return Err(Error::Incomplete {
                    expected: n,
                    partial: partial.into(),
                });
            }
            Ok(Chunks {
                parts: state.take_exact(n),
                state,
            })
        })
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
        let open = self.state.check_open();
        let state = self.state.clone();
        spawn(py, async move {
            open?;
            if max == 0 {
                return Ok(Into {
                    data: Bytes::new(),
                    target,
                    state,
                });
            }
            let data = match state.take(max) {
                Some(b) => b,
                None => {
                    let parts = state.next_chunks(max).await?;
                    match parts.len() {
                        0 => Bytes::new(),
                        1 => parts.into_iter().next().unwrap_or_default(),
                        _ => Bytes::from(parts.concat()),
                    }
                }
            };
            Ok(Into {
                data,
                target,
                state,
            })
        })
    }

    /// Ask the peer to stop sending (STOP_SENDING with `error_code`).
    #[pyo3(signature = (error_code = None), text_signature = "(self, error_code=0)")]
    fn stop(&self, error_code: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let code = check_code("error_code", error_code)?;
        self.do_stop(code).map_err(PyErr::from)
    }

    /// Wait until the stream ends: `None` after the peer's FIN (all data received) or a
    /// local stop, or the peer's RESET_STREAM code.
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        spawn(py, async move {
            let mut s = state.stream.lock().await;
            s.received_reset().await.map_err(Error::from)
        })
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read_chunk(py, usize::MAX, true)
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let this = slf.clone().into_any().unbind();
        spawn(slf.py(), async move { Ok(this) })
    }

    /// Stop the stream (code 0) on exit unless it reached its end.
    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let done = self.state.eof.load(Ordering::SeqCst) && self.state.stashed() == 0;
        if !done && !self.state.stopped.load(Ordering::SeqCst) {
            let _ = self.do_stop(0);
        }
        spawn(py, async { Ok(()) })
    }
}
