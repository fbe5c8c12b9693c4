//! Datagrams (RFC 9221, draft-ietf-webtrans-http3 §4.6): the per-session receive queue
//! and the `Datagrams` async iterator returned by `Session.datagrams()`.
//!
//! A pump task moves every received datagram from quinn into a queue bounded in bytes.
//! When the queue is full the *oldest* datagram is dropped and counted
//! (`SessionStats.datagrams_dropped_incoming`), so no datagram is ever lost silently;
//! receivers take from the queue without a thread hop when it is not empty.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::Notify;
use web_transport_quinn as wtq;

use crate::close_cause::CloseCause;
use crate::errors::Error;
use crate::operation::{spawn, Outcome};

struct State {
    items: VecDeque<Bytes>,
    bytes: usize,
    closed: Option<wtq::SessionError>,
}

pub struct DatagramQueue {
    state: Mutex<State>,
    notify: Notify,
    limit: usize,
    pub dropped: AtomicU64,
    pub received: AtomicU64,
}

impl DatagramQueue {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                closed: None,
            }),
            notify: Notify::new(),
            limit: limit.max(1),
            dropped: AtomicU64::new(0),
            received: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, datagram: Bytes) {
        {
            let mut s = self.lock();
            s.bytes += datagram.len();
            s.items.push_back(datagram);
            while s.bytes > self.limit && s.items.len() > 1 {
                if let Some(old) = s.items.pop_front() {
                    s.bytes -= old.len();
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.received.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_waiters();
    }

    fn close(&self, err: wtq::SessionError) {
        self.lock().closed = Some(err);
        self.notify.notify_waiters();
    }

    /// Put back a datagram whose receiver was cancelled (front: it is the oldest).
    fn unshift(&self, datagram: Bytes) {
        let mut s = self.lock();
        s.bytes += datagram.len();
        s.items.push_front(datagram);
    }

    /// The next datagram, waiting if none is queued; the close reason once closed and empty.
    pub async fn pop(self: Arc<Self>) -> Result<Bytes, Error> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if let Some(d) = s.items.pop_front() {
                    s.bytes -= d.len();
                    return Ok(d);
                }
                if let Some(err) = &s.closed {
                    return Err(Error::Session(err.clone()));
                }
            }
            notified.await;
        }
    }

    /// Up to `max` queued datagrams, waiting for at least one.
    pub async fn pop_many(self: Arc<Self>, max: usize) -> Result<Vec<Bytes>, Error> {
        let first = self.clone().pop().await?;
        let mut out = vec![first];
        let mut s = self.lock();
        while out.len() < max {
            match s.items.pop_front() {
                Some(d) => {
                    s.bytes -= d.len();
                    out.push(d);
                }
                None => break,
            }
        }
        Ok(out)
    }

    pub fn queued(&self) -> usize {
        self.lock().items.len()
    }
}

/// Move datagrams from the session into the queue until the session closes.
pub async fn pump(session: Arc<wtq::Session>, queue: Arc<DatagramQueue>) {
    loop {
        match session.read_datagram().await {
            Ok(d) => queue.push(d),
            Err(err) => {
                queue.close(err);
                return;
            }
        }
    }
}

/// A received datagram on its way to Python.
pub struct Received {
    pub data: Bytes,
    pub queue: Arc<DatagramQueue>,
}

impl Outcome for Received {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(PyBytes::new(py, &self.data).into_any().unbind())
    }
    fn abandon(self) {
        self.queue.unshift(self.data);
    }
}

pub fn receive<'py>(
    py: Python<'py>,
    queue: &Arc<DatagramQueue>,
    cause: &CloseCause,
) -> PyResult<Bound<'py, PyAny>> {
    let queue = queue.clone();
    spawn(
        py,
        cause.clone().with_real_cause(async move {
            let data = queue.clone().pop().await?;
            Ok(Received { data, queue })
        }),
    )
}

/// A burst of received datagrams on its way to Python as a list.
pub struct ReceivedMany {
    pub data: Vec<Bytes>,
    pub queue: Arc<DatagramQueue>,
}

impl Outcome for ReceivedMany {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let items = self.data.iter().map(|d| PyBytes::new(py, d));
        Ok(pyo3::types::PyList::new(py, items)?.into_any().unbind())
    }
    fn abandon(self) {
        for d in self.data.into_iter().rev() {
            self.queue.unshift(d);
        }
    }
}

pub fn receive_many<'py>(
    py: Python<'py>,
    queue: &Arc<DatagramQueue>,
    cause: &CloseCause,
    max: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let queue = queue.clone();
    spawn(
        py,
        cause.clone().with_real_cause(async move {
            let data = queue.clone().pop_many(max).await?;
            Ok(ReceivedMany { data, queue })
        }),
    )
}

/// `async for datagram in session.datagrams()`: yields each received datagram as bytes
/// and ends when the session closes.
#[pyclass(frozen, module = "web_transport")]
pub struct Datagrams {
    pub queue: Arc<DatagramQueue>,
    pub cause: CloseCause,
}

#[gate::pymethods]
impl Datagrams {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let queue = self.queue.clone();
        spawn(py, async move {
            match queue.clone().pop().await {
                Ok(data) => Ok(Received { data, queue }),
                Err(_) => Err(Error::EndOfIteration),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn queue(limit: usize, items: &[&'static [u8]]) -> Arc<DatagramQueue> {
        let q = DatagramQueue::new(limit);
        for d in items {
            q.push(Bytes::from_static(d));
        }
        q
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let q = queue(5, &[b"abc", b"de", b"fg"]);
        assert_eq!(q.queued(), 2);
        assert_eq!(q.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(q.received.load(Ordering::Relaxed), 3);
        assert_eq!(block_on(q.clone().pop()).ok().as_deref(), Some(&b"de"[..]));
    }

    #[test]
    fn one_datagram_larger_than_the_limit_is_kept() {
        let q = queue(2, &[b"abcdef"]);
        assert_eq!(q.queued(), 1);
        assert_eq!(q.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn an_unshifted_datagram_comes_out_first() {
        let q = queue(100, &[b"b"]);
        q.unshift(Bytes::from_static(b"a"));
        let all = block_on(q.clone().pop_many(10)).ok();
        assert_eq!(all.map(|v| v.concat()), Some(b"ab".to_vec()));
    }

    #[test]
    fn pop_many_takes_at_most_max() {
        let q = queue(100, &[b"1", b"2", b"3"]);
        let two = block_on(q.clone().pop_many(2)).ok();
        assert_eq!(two.map(|v| v.len()), Some(2));
        assert_eq!(q.queued(), 1);
    }

    #[test]
    fn a_closed_queue_is_drained_before_it_reports_the_close() {
        let q = queue(100, &[b"x"]);
        q.close(wtq::SessionError::ConnectionError(
            wtq::quinn::ConnectionError::TimedOut,
        ));
        assert!(block_on(q.clone().pop()).is_ok());
        assert!(matches!(
            block_on(q.clone().pop()),
            Err(Error::Session(wtq::SessionError::ConnectionError(
                wtq::quinn::ConnectionError::TimedOut
            )))
        ));
    }
}
