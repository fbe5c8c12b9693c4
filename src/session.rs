//! `Session`: one WebTransport session (draft-ietf-webtrans-http3), which in
//! web-transport-quinn owns its QUIC connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use web_transport_quinn as wtq;

use crate::args::{addr_tuple, check_code, check_reason};
use crate::buffer::to_bytes;
use crate::close_cause::{settle_close, CloseCause};
use crate::datagram::{self, DatagramQueue, Datagrams};
use crate::endpoint::EndpointInfo;
use crate::errors::{session_error, Error};
use crate::new_stream::{self, Kind, StreamContext, UnclaimedStreams};
use crate::operation::spawn;
use crate::runtime::runtime;
use crate::send_stream::SendStreams;
use crate::stats::SessionStats;

/// Bytes of received datagrams queued for `receive_datagram` before the oldest is dropped.
pub const DATAGRAM_QUEUE_BYTES: usize = 4 * 1024 * 1024;

#[pyclass(frozen, module = "web_transport")]
pub struct Session {
    /// Shared with the session's `CloseCause`, its tasks and the server's registry (the
    /// crate's `Session` is ~800 bytes: futures capture a pointer, not a copy).
    inner: Arc<wtq::Session>,
    datagrams: Arc<DatagramQueue>,
    dropped_outgoing: AtomicU64,
    streams: SendStreams,
    cause: CloseCause,
    unclaimed: UnclaimedStreams,
    /// Whether this side may send datagrams (see `EndpointInfo::datagrams`).
    datagrams_enabled: bool,
}

/// A session `Client.connect` or `SessionRequest.accept` made, on its way to Python
/// (the `Session` object is built on the event loop's thread).
pub struct NewSession(pub Arc<wtq::Session>, pub EndpointInfo);

impl crate::operation::Outcome for NewSession {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Bound::new(py, Session::new(self.0, &self.1))?
            .into_any()
            .unbind())
    }
}

/// The longest `Session.close` waits for finished streams to be acknowledged before it
/// sends the close capsule.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(2);

impl Session {
    /// Wrap a session; `endpoint_closing` is the owning Client's or Server's close flag.
    pub fn new(inner: Arc<wtq::Session>, endpoint: &EndpointInfo) -> Self {
        let cause = CloseCause::new(inner.clone(), endpoint);
        let datagrams = DatagramQueue::new(DATAGRAM_QUEUE_BYTES);
        if let Ok(rt) = runtime() {
            rt.spawn(datagram::pump(inner.clone(), datagrams.clone()));
        }
        Self {
            inner,
            datagrams,
            dropped_outgoing: AtomicU64::new(0),
            streams: SendStreams::default(),
            cause,
            unclaimed: UnclaimedStreams::default(),
            datagrams_enabled: endpoint.datagrams,
        }
    }

    /// Close gracefully: let finished streams deliver their data (bounded wait), then send
    /// the close capsule and close the connection.
    fn begin_close(&self, code: u32, reason: &str) -> PyResult<()> {
        if self.cause.mark_closed_locally() {
            return Ok(());
        }
        let pending = self.streams.live();
        let inner = self.inner.clone();
        let reason = reason.as_bytes().to_vec();
        let rt = runtime()?;
        if pending.is_empty() {
            let _guard = rt.enter();
            inner.close(code, &reason);
            return Ok(());
        }
        rt.spawn(async move {
            let delivered = futures::future::join_all(pending.iter().map(|s| s.delivered()));
            let _ = tokio::time::timeout(DELIVERY_TIMEOUT, delivered).await;
            inner.close(code, &reason);
        });
        Ok(())
    }

    fn stream_context(&self) -> StreamContext {
        StreamContext {
            streams: self.streams.clone(),
            cause: self.cause.clone(),
        }
    }

    fn open<'py>(&self, py: Python<'py>, kind: Kind) -> PyResult<Bound<'py, PyAny>> {
        let opened = new_stream::open(
            self.inner.clone(),
            kind,
            self.check_open(),
            self.stream_context(),
        );
        spawn(py, self.cause.clone().with_real_cause(opened))
    }

    fn accept<'py>(&self, py: Python<'py>, kind: Kind) -> PyResult<Bound<'py, PyAny>> {
        let accepted = new_stream::accept(
            self.inner.clone(),
            kind,
            self.unclaimed[kind as usize].clone(),
            self.stream_context(),
        );
        spawn(py, self.cause.clone().with_real_cause(accepted))
    }

    /// `async with` exit: close (code 0) and wait for the close to complete.
    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.begin_close(0, "")?;
        self.wait_closed(py)
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.cause.closed_locally() {
            return Err(Error::SessionClosedLocally("the session was closed"));
        }
        Ok(())
    }

    fn datagram_bytes(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<bytes::Bytes> {
        let data = to_bytes(data, "data")?;
        let max = self.inner.max_datagram_size();
        if max > 0 && data.len() > max {
            return Err(Error::DatagramTooLarge {
                size: data.len(),
                max,
            }
            .into_pyerr(py));
        }
        Ok(data)
    }

    /// Send checked datagrams in order, each waiting for room in the send buffer (the
    /// operation of `send_datagram_wait` and `send_datagrams_wait`).
    fn send_waiting<'py>(
        &self,
        py: Python<'py>,
        datagrams: Vec<bytes::Bytes>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let open = self.check_open();
        let s = self.inner.clone();
        spawn(
            py,
            self.cause.clone().with_real_cause(async move {
                open?;
                for data in datagrams {
                    s.send_datagram_wait(data).await?;
                }
                Ok(())
            }),
        )
    }
}

#[gate::pymethods(async_with = exit)]
impl Session {
    /// Open a bidirectional stream: `(SendStream, RecvStream)`.
    fn open_bi<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.open(py, Kind::Bi)
    }

    /// Open a unidirectional stream.
    fn open_uni<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.open(py, Kind::Uni)
    }

    /// Wait for the peer's next bidirectional stream.
    fn accept_bi<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.accept(py, Kind::Bi)
    }

    /// Wait for the peer's next unidirectional stream.
    fn accept_uni<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.accept(py, Kind::Uni)
    }

    /// Send a datagram now (unreliable; may be dropped, counted in stats()).
    fn send_datagram(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open().map_err(|e| e.into_pyerr(py))?;
        let data = self.datagram_bytes(py, data)?;
        // Queue the datagram if the send buffer has room; if it is full, drop this one and
        // count it, rather than let quinn's `send_datagram` drop the oldest uncounted.
        // One poll of the waiting send checks for room and queues under quinn's
        // connection lock, so the count is exact even when other threads (free-threaded
        // CPython) or `send_datagram_wait` send at the same time.
        let sent = {
            let send = std::pin::pin!(self.inner.send_datagram_wait(data));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            std::future::Future::poll(send, &mut cx)
        };
        match sent {
            std::task::Poll::Pending => {
                self.dropped_outgoing.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            std::task::Poll::Ready(result) => {
                result.map_err(|e| self.cause.correct(Error::Session(e)).into_pyerr(py))
            }
        }
    }

    /// Send a datagram, waiting for room in the send buffer instead of dropping.
    fn send_datagram_wait<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = self.datagram_bytes(py, data)?;
        self.send_waiting(py, vec![data])
    }

    /// Send several datagrams in order, each waiting for room as `send_datagram_wait`
    /// does: one await per burst. Every datagram is checked before any is sent.
    fn send_datagrams_wait<'py>(
        &self,
        py: Python<'py>,
        datagrams: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if datagrams.is_instance_of::<pyo3::types::PyBytes>()
            || datagrams.is_instance_of::<pyo3::types::PyByteArray>()
            || datagrams.is_instance_of::<pyo3::types::PyMemoryView>()
        {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "datagrams must be an iterable of bytes-like objects, not a single one \
                 (use send_datagram_wait)",
            ));
        }
        let all = datagrams
            .try_iter()?
            .map(|d| self.datagram_bytes(py, &d?))
            .collect::<PyResult<Vec<_>>>()?;
        self.send_waiting(py, all)
    }

    /// Wait for the next datagram.
    fn receive_datagram<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datagram::receive(py, &self.datagrams, &self.cause)
    }

    /// Wait for at least one datagram; return every queued one, up to `max_count`.
    #[pyo3(signature = (max_count = crate::args::Int(64)), text_signature = "(self, max_count=64)")]
    fn receive_datagrams<'py>(
        &self,
        py: Python<'py>,
        max_count: crate::args::Int,
    ) -> PyResult<Bound<'py, PyAny>> {
        let max = usize::try_from(max_count.0)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                PyValueError::new_err(format!("max_count must be >= 1, got {}", max_count.0))
            })?;
        datagram::receive_many(py, &self.datagrams, &self.cause, max)
    }

    /// `async for datagram in session.datagrams()`.
    fn datagrams(&self) -> Datagrams {
        Datagrams {
            queue: self.datagrams.clone(),
            cause: self.cause.clone(),
        }
    }

    /// Close the session with a code and reason (close capsule, then CONNECTION_CLOSE).
    #[pyo3(signature = (code = None, reason = ""), text_signature = "(self, code=0, reason='')")]
    fn close(&self, code: Option<&Bound<'_, PyAny>>, reason: &str) -> PyResult<()> {
        let code = check_code("code", code)?;
        check_reason(reason)?;
        self.begin_close(code, reason)
    }

    /// Wait until the session is closed, by either side. Never raises.
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        spawn(py, async move {
            s.closed().await;
            settle_close(&s).await;
            Ok(())
        })
    }

    /// Why the session closed (an exception instance), or None while open.
    #[getter]
    fn close_reason(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        match self.inner.close_reason() {
            Some(e) => Some(
                session_error(py, self.cause.real_cause(e))
                    .into_value(py)
                    .into_any(),
            ),
            None if self.cause.closed_locally() => Some(
                Error::SessionClosedLocally("the session is closing")
                    .into_pyerr(py)
                    .into_value(py)
                    .into_any(),
            ),
            None => None,
        }
    }

    #[getter]
    fn max_datagram_size(&self) -> usize {
        if self.datagrams_enabled {
            self.inner.max_datagram_size()
        } else {
            0
        }
    }

    #[getter]
    fn remote_address(&self) -> (String, u16) {
        addr_tuple(self.inner.remote_address())
    }

    /// Smoothed round-trip time, seconds.
    #[getter]
    fn rtt(&self) -> f64 {
        self.inner.rtt().as_secs_f64()
    }

    /// The negotiated subprotocol, or None.
    #[getter]
    fn protocol(&self) -> Option<String> {
        self.inner.protocol().map(str::to_owned)
    }

    /// The session's URL (the CONNECT request's).
    #[getter]
    fn url(&self) -> Option<String> {
        self.inner.request().map(|r| r.url.to_string())
    }

    /// Connection and datagram statistics.
    fn stats(&self) -> SessionStats {
        SessionStats::collect(
            &self.inner,
            &self.datagrams,
            self.dropped_outgoing.load(Ordering::Relaxed),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "<Session {} remote={}>",
            self.url().unwrap_or_default(),
            self.inner.remote_address()
        )
    }
}
