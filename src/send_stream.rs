//! `SendStream`: the sending half of a WebTransport stream (RFC 9000 §3.1).
//!
//! The crate's stream sits behind an async mutex so that calls from several tasks queue
//! up; `reset()` is immediate: it marks the stream closed (waking a pending `write` or
//! `finish` with `StreamClosedLocally`) and sends RESET_STREAM as soon as the stream is
//! free.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tokio::sync::{watch, Mutex};
use web_transport_quinn as wtq;

use crate::args::{check_code, Int};
use crate::buffer::to_bytes;
use crate::close_cause::CloseCause;
use crate::errors::Error;
use crate::operation::spawn;
use crate::stream_state::{close_locally, now_or_soon, unless_closed};

pub struct SendState {
    stream: Mutex<wtq::SendStream>,
    closed: watch::Sender<bool>,
    finished: AtomicBool,
    reset: AtomicBool,
    priority: AtomicI32,
    cause: CloseCause,
}

crate::stream_state::stream_state!(SendState, wtq::SendStream, stopped);

#[pyclass(frozen, module = "web_transport")]
pub struct SendStream {
    state: Arc<SendState>,
}

impl SendState {
    /// Wait until a finished stream's data is acknowledged by the peer; return at once for
    /// a stream that is not finished (its data is abandoned by a session close).
    pub async fn delivered(&self) {
        if !self.finished.load(Ordering::SeqCst) || self.reset.load(Ordering::SeqCst) {
            return;
        }
        let _ = self.stream.lock().await.stopped().await;
    }
}

/// A session's send streams, so that `Session.close` can let finished streams deliver
/// their data before the close capsule.
#[derive(Clone, Default)]
pub struct SendStreams(Arc<std::sync::Mutex<Vec<std::sync::Weak<SendState>>>>);

impl SendStreams {
    fn add(&self, state: &Arc<SendState>) {
        let mut streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if streams.len() >= 64 {
            streams.retain(|w| w.strong_count() > 0);
        }
        streams.push(Arc::downgrade(state));
    }

    /// The streams still alive.
    pub fn live(&self) -> Vec<Arc<SendState>> {
        let streams = self.0.lock().unwrap_or_else(|p| p.into_inner());
        streams
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect()
    }
}

impl SendStream {
    pub fn new(stream: wtq::SendStream, streams: &SendStreams, cause: CloseCause) -> Self {
        let state = Arc::new(SendState {
            stream: Mutex::new(stream),
            closed: watch::channel(false).0,
            finished: AtomicBool::new(false),
            reset: AtomicBool::new(false),
            priority: AtomicI32::new(0),
            cause,
        });
        streams.add(&state);
        Self { state }
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.state.reset.load(Ordering::SeqCst) {
            return Err(Error::StreamClosedLocally("the stream was reset"));
        }
        if self.state.finished.load(Ordering::SeqCst) {
            return Err(Error::StreamClosedLocally("the stream was finished"));
        }
        Ok(())
    }

    fn do_reset(&self, code: u32) -> Result<(), Error> {
        self.check_open()?;
        // Two threads resetting at once: one resets, the other gets this error.
        let reset = &self.state.reset;
        close_locally(&self.state, reset, "the stream was reset", move |s| {
            let _ = s.reset(code);
        })
    }

    /// The operation of `write` (`all`: every byte, quinn sharing the buffer) and
    /// `write_some` (what flow control allows now): the number of bytes written.
    fn write_op(
        &self,
        data: &Bound<'_, PyAny>,
        all: bool,
    ) -> PyResult<impl Future<Output = Result<usize, Error>> + Send + 'static> {
        let data = to_bytes(data, "data")?;
        let open = self.check_open();
        let state = self.state.clone();
        Ok(self.state.cause.clone().with_real_cause(async move {
            open?;
            if data.is_empty() {
                return Ok(0);
            }
            let mut rx = state.closed.subscribe();
            let written = unless_closed(&mut rx, async {
                let mut stream = state.stream.lock().await;
                // A reset after this poll passed `unless_closed`'s check: the lock may
                // come from the operation it interrupted; write nothing.
                if *state.closed.borrow() {
                    return None;
                }
                Some(if all {
                    let len = data.len();
                    stream.write_chunk(data).await.map(|()| len)
                } else {
                    stream.write(&data).await
                })
            })
            .await
            .flatten();
            match written {
                None => Err(Error::StreamClosedLocally(
                    "the stream was reset while writing",
                )),
                Some(r) => r.map_err(Error::from),
            }
        }))
    }

    fn do_finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let open = self.check_open();
        let state = self.state.clone();
        spawn(
            py,
            self.state.cause.clone().with_real_cause(async move {
                open?;
                let mut rx = state.closed.subscribe();
                let finished = unless_closed(&mut rx, async {
                    let mut s = state.stream.lock().await;
                    // As in `write_op`: no FIN after a reset that handed us the lock.
                    if *state.closed.borrow() {
                        return None;
                    }
                    state.finished.store(true, Ordering::SeqCst);
                    Some(s.finish())
                })
                .await
                .flatten();
                match finished {
                    None => Err(Error::StreamClosedLocally(
                        "the stream was reset while finishing",
                    )),
                    Some(Err(_)) => {
                        Err(Error::StreamClosedLocally("the stream was already closed"))
                    }
                    Some(Ok(())) => Ok(()),
                }
            }),
        )
    }
}

#[gate::pymethods]
impl SendStream {
    /// Write all of `data` (any bytes-like object).
    fn write<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let written = self.write_op(data, true)?;
        spawn(py, async move { written.await.map(drop) })
    }

    /// Write as much of `data` as flow control allows now (at least 1 byte); return the
    /// number of bytes written.
    fn write_some<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        spawn(py, self.write_op(data, false)?)
    }

    /// Finish the stream (QUIC FIN) after any pending write.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.do_finish(py)
    }

    /// Abruptly end the stream with RESET_STREAM and `error_code`.
    #[pyo3(signature = (error_code = None), text_signature = "(self, error_code=0)")]
    fn reset(&self, error_code: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        Ok(self.do_reset(check_code("error_code", error_code)?)?)
    }

    /// Wait until the peer has everything (`None`) or sent STOP_SENDING (its code).
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::stream_state::wait_closed(py, &self.state)
    }

    /// Scheduling priority among this session's streams; higher is sent first.
    #[getter]
    fn priority(&self) -> i32 {
        self.state.priority.load(Ordering::SeqCst)
    }

    #[setter]
    fn set_priority(&self, value: Int) -> PyResult<()> {
        let value = i32::try_from(value.0).map_err(|_| {
            PyValueError::new_err(format!(
                "priority must be between -2**31 and 2**31 - 1, got {}",
                value.0
            ))
        })?;
        self.state.priority.store(value, Ordering::SeqCst);
        now_or_soon(
            &self.state,
            |s| &s.stream,
            move |s| {
                let _ = s.set_priority(value);
            },
        )
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::operation::resolve_to_self(slf)
    }

    /// Finish on a clean exit, reset (code 0) when an exception escapes.
    #[pyo3(signature = (exc_type, *_rest))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        exc_type: &Bound<'py, PyAny>,
        _rest: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.check_open().is_err() {
            return spawn(py, async { Ok(()) });
        }
        if exc_type.is_none() {
            self.do_finish(py)
        } else {
            let _ = self.do_reset(0);
            spawn(py, async { Ok(()) })
        }
    }
}
