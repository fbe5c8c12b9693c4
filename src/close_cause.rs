//! Why a session closed: corrects one ambiguity of web-transport-quinn.
//!
//! The crate records "closed locally" both when this side closed and when the CONNECT
//! stream ended without a close capsule (the peer closed the session with code 0, or the
//! connection was lost, e.g. by idle timeout). Only our own close flags know which, so
//! every session keeps a [`CloseCause`] and every operation's error passes through
//! [`CloseCause::correct`] (or [`CloseCause::with_real_cause`] for a future).
//!
//! quinn itself overwrites a connection's close reason with "locally closed" when the
//! crate closes an already-closed connection, so a watcher task records the reason the
//! connection really ended with as soon as it ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use web_transport_quinn as wtq;
use wtq::quinn;

use crate::endpoint::EndpointInfo;
use crate::errors::Error;

/// A session's close flags and what its connection really ended with.
#[derive(Clone)]
pub struct CloseCause {
    /// Shared by every clone (streams hold one each): one pointer, not a session copy.
    session: Arc<wtq::Session>,
    session_closing: Arc<AtomicBool>,
    endpoint_closing: Arc<AtomicBool>,
    ended: Arc<OnceLock<quinn::ConnectionError>>,
    activity: Arc<Activity>,
}

/// How long without a received packet makes a connection that ended "silent".
const SILENCE: Duration = Duration::from_millis(200);

/// When packets last arrived, sampled: an idle timeout is the one ending that comes after
/// a silence; the peer's close always comes with a packet.
struct Activity {
    /// (datagrams received so far, when that count was first seen).
    state: Mutex<(u64, Instant)>,
}

impl Activity {
    fn new(rx: u64, now: Instant) -> Self {
        Self {
            state: Mutex::new((rx, now)),
        }
    }

    fn sample(&self, rx: u64, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.0 != rx {
            *s = (rx, now);
        }
    }

    /// True if nothing arrived since the last sample and that was [`SILENCE`] ago.
    fn silent(&self, rx: u64, now: Instant) -> bool {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 == rx && now.saturating_duration_since(s.1) >= SILENCE
    }
}

/// What ended a session that the crate reports as "closed locally" although this side
/// did not close it. `ended` is what the watcher recorded, `close_reason` quinn's
/// current close reason; `connection_close_frames` counts received CONNECTION_CLOSE
/// frames, `silent` says nothing arrived for a while.
fn real_cause(
    ended: Option<quinn::ConnectionError>,
    close_reason: Option<quinn::ConnectionError>,
    connection_close_frames: u64,
    silent: bool,
) -> wtq::SessionError {
    let real = ended
        .filter(|r| !matches!(r, quinn::ConnectionError::LocallyClosed))
        .or(close_reason);
    match real {
        Some(quinn::ConnectionError::LocallyClosed) | None => {
            if connection_close_frames == 0 && silent {
                // No CONNECTION_CLOSE, nothing received for a while, not closed by us:
                // the idle timer.
                wtq::SessionError::ConnectionError(quinn::ConnectionError::TimedOut)
            } else {
                // The peer ended the CONNECT stream without a capsule (the crate then
                // closed the connection), or closed the connection without one: a
                // session close with code 0 (draft-ietf-webtrans-http3 §5).
                wtq::SessionError::WebTransportError(wtq::WebTransportError::Closed(
                    0,
                    String::new(),
                ))
            }
        }
        Some(other) => wtq::SessionError::from(other),
    }
}

impl CloseCause {
    pub fn new(session: Arc<wtq::Session>, endpoint: &EndpointInfo) -> Self {
        // For the watcher task below (quinn's connection, not the crate's session).
        let conn = quinn::Connection::clone(&session);
        let cause = Self {
            session,
            activity: Arc::new(Activity::new(conn.stats().udp_rx.datagrams, Instant::now())),
            session_closing: Arc::new(AtomicBool::new(false)),
            endpoint_closing: endpoint.closing.clone(),
            ended: Arc::new(OnceLock::new()),
        };
        let ended = cause.ended.clone();
        let activity = cause.activity.clone();
        // Sample a few times per idle period (at least every 100 ms, at most every 5 s).
        let period = endpoint
            .idle_timeout
            .map_or(Duration::from_secs(5), |d| d / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        let _ = crate::runtime::spawn_detached(async move {
            let closed = conn.closed();
            tokio::pin!(closed);
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    reason = &mut closed => {
                        let _ = ended.set(reason);
                        return;
                    }
                    _ = tick.tick() => {
                        activity.sample(conn.stats().udp_rx.datagrams, Instant::now());
                    }
                }
            }
        });
        cause
    }

    /// Mark the session as closed by this side; true if it already was.
    pub fn mark_closed_locally(&self) -> bool {
        self.session_closing.swap(true, Ordering::SeqCst)
    }

    /// Whether this side closed the session or its endpoint.
    pub fn closed_locally(&self) -> bool {
        self.session_closing.load(Ordering::SeqCst) || self.endpoint_closing.load(Ordering::SeqCst)
    }

    /// Replace a "closed locally" this side did not cause by the real reason.
    pub fn real_cause(&self, e: wtq::SessionError) -> wtq::SessionError {
        if !matches!(
            e,
            wtq::SessionError::ConnectionError(quinn::ConnectionError::LocallyClosed)
        ) || self.closed_locally()
        {
            return e;
        }
        // quinn's connection (its own `close_reason`, not the crate's).
        let conn: &quinn::Connection = &self.session;
        let stats = conn.stats();
        real_cause(
            self.ended.get().cloned(),
            conn.close_reason(),
            stats.frame_rx.connection_close,
            self.activity.silent(stats.udp_rx.datagrams, Instant::now()),
        )
    }

    /// The error with its session error (if any) replaced by the real cause.
    pub fn correct(&self, e: Error) -> Error {
        e.map_session_error(|s| self.real_cause(s))
    }

    /// Run `fut`, correcting its error. A session error that is a bare connection error
    /// waits for the crate to record a close capsule that came with it ([`settle_close`])
    /// and reports the capsule's code and reason instead.
    pub async fn with_real_cause<T>(
        self,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let err = match fut.await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let unrecorded = matches!(
            err.session_error(),
            Some(wtq::SessionError::ConnectionError(c))
                if !matches!(c, quinn::ConnectionError::LocallyClosed)
        );
        if !unrecorded {
            return Err(self.correct(err));
        }
        settle_close(&self.session).await;
        let err = match self.session.close_reason() {
            Some(recorded @ wtq::SessionError::WebTransportError(_)) => {
                err.map_session_error(|_| recorded)
            }
            _ => err,
        };
        Err(self.correct(err))
    }
}

/// How long [`settle_close`] waits for the crate to record a close capsule.
const SETTLE_TIMEOUT: Duration = Duration::from_millis(100);

/// Whether the crate has recorded why the session ended: its CONNECT-stream reader stores
/// the close capsule (`WebTransportError::Closed`) or, without one, `LocallyClosed`; a
/// bare connection error means that reader has not run yet.
fn close_recorded(reason: Option<&wtq::SessionError>) -> bool {
    matches!(
        reason,
        None | Some(
            wtq::SessionError::WebTransportError(_)
                | wtq::SessionError::ConnectionError(quinn::ConnectionError::LocallyClosed)
        )
    )
}

/// After the connection closed, wait (at most [`SETTLE_TIMEOUT`]) until the crate has
/// recorded the close. A peer that sends CLOSE_WEBTRANSPORT_SESSION and CONNECTION_CLOSE
/// in one flight (Firefox does) closes the connection before web-transport-quinn's
/// capsule reader, a task of its own, has returned the capsule quinn already received:
/// without this wait the session reports the connection's H3_NO_ERROR instead of the
/// capsule's code and reason (draft-ietf-webtrans-http3 §5).
pub async fn settle_close(session: &wtq::Session) {
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    let mut turns = 0u32;
    while !close_recorded(session.close_reason().as_ref()) && tokio::time::Instant::now() < deadline
    {
        // The reader is usually ready to run: a few scheduler turns are enough.
        if turns < 16 {
            tokio::task::yield_now().await;
            turns += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_timeout(e: &wtq::SessionError) -> bool {
        matches!(
            e,
            wtq::SessionError::ConnectionError(quinn::ConnectionError::TimedOut)
        )
    }

    fn is_close_code_0(e: &wtq::SessionError) -> bool {
        matches!(
            e,
            wtq::SessionError::WebTransportError(wtq::WebTransportError::Closed(0, r))
                if r.is_empty()
        )
    }

    #[test]
    fn a_silent_end_without_connection_close_is_the_idle_timer() {
        assert!(is_timeout(&real_cause(None, None, 0, true)));
        let local = Some(quinn::ConnectionError::LocallyClosed);
        assert!(is_timeout(&real_cause(local.clone(), local, 0, true)));
    }

    #[test]
    fn an_end_with_traffic_or_connection_close_is_a_close_with_code_0() {
        assert!(is_close_code_0(&real_cause(None, None, 0, false)));
        assert!(is_close_code_0(&real_cause(None, None, 1, true)));
    }

    #[test]
    fn the_recorded_end_wins_over_quinns_overwritten_reason() {
        let recorded = real_cause(
            Some(quinn::ConnectionError::Reset),
            Some(quinn::ConnectionError::LocallyClosed),
            0,
            true,
        );
        assert!(matches!(
            recorded,
            wtq::SessionError::ConnectionError(quinn::ConnectionError::Reset)
        ));
        // Without a recorded end, quinn's reason is used when it is not "locally closed".
        let reason = real_cause(None, Some(quinn::ConnectionError::TimedOut), 1, false);
        assert!(is_timeout(&reason));
    }

    #[test]
    fn activity_is_silent_only_after_a_quiet_period() {
        let start = Instant::now();
        let activity = Activity::new(5, start);
        assert!(!activity.silent(5, start));
        assert!(activity.silent(5, start + SILENCE));
        // A new packet count restarts the period.
        activity.sample(6, start + SILENCE);
        assert!(!activity.silent(6, start + SILENCE));
        assert!(!activity.silent(7, start + 10 * SILENCE));
        // Sampling the same count keeps the first time it was seen.
        activity.sample(6, start + 2 * SILENCE);
        assert!(activity.silent(6, start + 2 * SILENCE));
    }

    #[test]
    fn a_close_is_recorded_once_the_reader_ran() {
        assert!(close_recorded(None));
        assert!(close_recorded(Some(&wtq::SessionError::ConnectionError(
            quinn::ConnectionError::LocallyClosed
        ))));
        assert!(!close_recorded(Some(&wtq::SessionError::ConnectionError(
            quinn::ConnectionError::TimedOut
        ))));
    }
}
