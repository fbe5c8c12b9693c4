//! How a stream a session opened or accepted reaches Python: `Session.open_bi`,
//! `open_uni`, `accept_bi` and `accept_uni` share one operation each way.
//!
//! An accepted stream whose `accept` was cancelled after it arrived is kept
//! ([`UnclaimedStreams`]) for the next accept of its kind: cancellation loses nothing.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use web_transport_quinn as wtq;

use crate::close_cause::CloseCause;
use crate::errors::Error;
use crate::operation::Outcome;
use crate::recv_stream::RecvStream;
use crate::send_stream::{SendStream, SendStreams};
use crate::unclaimed::{Claim, Unclaimed};

/// Bidirectional (RFC 9000 §2.1) or unidirectional.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bi,
    Uni,
}

/// A new stream as the crate hands it over.
pub enum NewStream {
    Bi(wtq::SendStream, wtq::RecvStream),
    /// One we opened.
    UniSend(wtq::SendStream),
    /// One the peer opened.
    UniRecv(wtq::RecvStream),
}

/// Accepted streams whose accept was cancelled, one queue per [`Kind`]: the next accept
/// of the kind takes them.
pub type UnclaimedStreams = [Unclaimed<NewStream>; 2];

/// What a session's streams share: its open send streams (for a graceful close) and
/// its close cause.
#[derive(Clone)]
pub struct StreamContext {
    pub streams: SendStreams,
    pub cause: CloseCause,
}

/// A new stream on its way to Python; an accepted one goes back to its unclaimed queue if
/// the accept was cancelled.
struct Delivered {
    stream: Claim<NewStream>,
    ctx: StreamContext,
}

impl Outcome for Delivered {
    fn into_py(mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let StreamContext { streams, cause } = self.ctx.clone();
        let send = |st| {
            Ok::<_, PyErr>(Bound::new(py, SendStream::new(st, &streams, cause.clone()))?.into_any())
        };
        let recv =
            |st| Ok::<_, PyErr>(Bound::new(py, RecvStream::new(st, cause.clone()))?.into_any());
        let object = match self.stream.take() {
            Some(NewStream::Bi(s, r)) => PyTuple::new(py, [send(s)?, recv(r)?])?.into_any(),
            Some(NewStream::UniSend(s)) => send(s)?,
            Some(NewStream::UniRecv(r)) => recv(r)?,
            None => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "stream already taken",
                ))
            }
        };
        Ok(object.unbind())
    }

    fn abandon(self) {
        self.stream.abandon();
    }
}

/// Open (`opening`) or accept a stream of `kind` on `session`.
async fn next_stream(
    session: &wtq::Session,
    kind: Kind,
    opening: bool,
) -> Result<NewStream, Error> {
    Ok(match (kind, opening) {
        (Kind::Bi, true) => {
            let (send, recv) = session.open_bi().await?;
            NewStream::Bi(send, recv)
        }
        (Kind::Bi, false) => {
            let (send, recv) = session.accept_bi().await?;
            NewStream::Bi(send, recv)
        }
        (Kind::Uni, true) => NewStream::UniSend(session.open_uni().await?),
        (Kind::Uni, false) => NewStream::UniRecv(session.accept_uni().await?),
    })
}

/// Open a stream of `kind` on `session` (after `open`, the session's open check).
pub async fn open(
    session: Arc<wtq::Session>,
    kind: Kind,
    open: Result<(), Error>,
    ctx: StreamContext,
) -> Result<impl Outcome, Error> {
    open?;
    let stream = next_stream(&session, kind, true).await?;
    Ok(Delivered {
        stream: Claim::unqueued(stream),
        ctx,
    })
}

/// Accept the peer's next stream of `kind`: an unclaimed one (of `unclaimed`, the
/// queue of that kind) first.
pub async fn accept(
    session: Arc<wtq::Session>,
    kind: Kind,
    unclaimed: Unclaimed<NewStream>,
    ctx: StreamContext,
) -> Result<impl Outcome, Error> {
    let stream = match unclaimed.pop() {
        Some(stream) => stream,
        None => next_stream(&session, kind, false).await?,
    };
    Ok(Delivered {
        stream: unclaimed.claim(stream),
        ctx,
    })
}
