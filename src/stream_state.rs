//! What a stream shares with its tasks ([`StreamState`]) and how a local close reaches
//! them: [`close_locally`] (`RecvStream.stop()`, `SendStream.reset()`),
//! [`unless_closed`] (a pending read or write interrupted by it), [`now_or_soon`] (a
//! stop, reset or priority change that does not wait for the pending operation) and
//! [`wait_closed`].

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use pyo3::prelude::*;

use crate::close_cause::CloseCause;
use crate::errors::Error;
use crate::runtime::spawn_detached;

/// Run `f` on the value behind `owner`'s async mutex (`lock` picks it) now if it is
/// free, else in a task as soon as it is: a stop, reset or priority change does not wait
/// for a pending read or write to finish.
pub fn now_or_soon<T, S>(
    owner: &Arc<T>,
    lock: fn(&T) -> &tokio::sync::Mutex<S>,
    f: impl FnOnce(&mut S) + Send + 'static,
) -> PyResult<()>
where
    T: Send + Sync + 'static,
    S: Send + 'static,
{
    if let Ok(mut value) = lock(owner).try_lock() {
        f(&mut value);
        return Ok(());
    }
    let owner = owner.clone();
    spawn_detached(async move {
        f(&mut *lock(&owner).lock().await);
    })
}

/// The state a stream shares with its tasks: the crate's stream behind an async mutex,
/// and the channel that interrupts a pending operation when the stream is closed locally.
pub trait StreamState: Send + Sync + 'static {
    /// The crate's stream (`RecvStream` or `SendStream`).
    type Stream: Send + 'static;
    /// The stream, behind its async mutex.
    fn stream(&self) -> &tokio::sync::Mutex<Self::Stream>;
    /// Set to `true` when the stream is closed locally.
    fn closed(&self) -> &tokio::sync::watch::Sender<bool>;
    /// Why the stream's session closed, if it did.
    fn cause(&self) -> &CloseCause;
    /// Until the stream ends for `wait_closed()`: `None`, or the peer's error code.
    fn end(self: Arc<Self>) -> impl Future<Output = Result<Option<u32>, Error>> + Send;
}

/// `impl StreamState for $state` whose crate stream is `$state.stream` (a `$stream`),
/// whose close signal is `$state.closed`, whose session's close cause is `$state.cause`
/// and whose end is the crate stream's `$end()`.
macro_rules! stream_state {
    ($state:ty, $stream:ty, $end:ident) => {
        impl $crate::stream_state::StreamState for $state {
            type Stream = $stream;

            fn stream(&self) -> &tokio::sync::Mutex<$stream> {
                &self.stream
            }

            fn closed(&self) -> &tokio::sync::watch::Sender<bool> {
                &self.closed
            }

            fn cause(&self) -> &$crate::close_cause::CloseCause {
                &self.cause
            }

            async fn end(self: std::sync::Arc<Self>) -> Result<Option<u32>, $crate::errors::Error> {
                Ok(self.stream.lock().await.$end().await?)
            }
        }
    };
}
pub(crate) use stream_state;

/// Close one direction of a stream locally (`RecvStream.stop()`, `SendStream.reset()`):
/// `StreamClosedLocally(already)` if `flag` was already set; else set it, interrupt the
/// pending operation and run `f` (send STOP_SENDING or RESET_STREAM) on the stream now
/// or as soon as it is free ([`now_or_soon`]).
pub fn close_locally<T: StreamState>(
    state: &Arc<T>,
    flag: &std::sync::atomic::AtomicBool,
    already: &'static str,
    f: impl FnOnce(&mut T::Stream) + Send + 'static,
) -> Result<(), Error> {
    if flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err(Error::StreamClosedLocally(already));
    }
    state.closed().send_replace(true);
    now_or_soon(state, T::stream, f).map_err(|e| Error::Runtime(e.to_string()))
}

/// `wait_closed()` of a stream: an awaitable of its [`StreamState::end`], whose session
/// error is the session's real close cause.
pub fn wait_closed<'py, T: StreamState>(
    py: Python<'py>,
    state: &Arc<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let end = state.clone().end();
    crate::operation::spawn(py, state.cause().clone().with_real_cause(end))
}

/// Wait for `fut`, unless `signal` reports a local close first.
///
/// Every poll reads the value before polling `fut`: a pending `wait_for` only means this
/// task's notification has not arrived. tokio's watch wakes its receivers one shard of
/// eight at a time, so the operation queued behind an interrupted one can run (woken by
/// the stream mutex the other released; on a second worker, or on the only one while the
/// closing thread is preempted mid-walk) before its own notification, and would take the
/// lock and write or finish after the close.
pub async fn unless_closed<F: Future>(
    signal: &mut tokio::sync::watch::Receiver<bool>,
    fut: F,
) -> Option<F::Output> {
    let current = signal.clone();
    let mut fut = pin!(fut);
    let mut closing = pin!(signal.wait_for(|closed| *closed));
    std::future::poll_fn(|cx| {
        if *current.borrow() || closing.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::unless_closed;

    /// A stream closed before the operation's next poll interrupts it even when this
    /// task's notification has not arrived yet. tokio's `notify_waiters` wakes the
    /// receivers shard by shard, so a task can run (woken by the stream mutex its
    /// interrupted neighbour released) before its own notification; here the
    /// value is set without notifying (`send_if_modified` returning false), which is
    /// that state made deterministic.
    #[test]
    fn closed_before_notification_interrupts() {
        let (closed, mut rx) = tokio::sync::watch::channel(false);
        let mut polls = 0;
        let op = std::future::poll_fn(|_| {
            polls += 1;
            if polls == 1 {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        let mut cx = Context::from_waker(Waker::noop());
        let mut fut = pin!(unless_closed(&mut rx, op));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        closed.send_if_modified(|value| {
            *value = true;
            false
        });
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(None));
    }
}
