//! The one place where Rust errors become Python exceptions.
//!
//! The exception classes are defined in Python (`web_transport/_exceptions.py`, so they
//! carry typed attributes and docstrings); this module maps every error of
//! web-transport-quinn and quinn onto them. Nothing else constructs Python exceptions
//! for network or protocol conditions.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use pyo3::exceptions::{
    PyOSError, PyRuntimeError, PyStopAsyncIteration, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict};
use pyo3::BoundObject;
use web_transport_quinn as wtq;
use wtq::quinn;

/// Every failure the binding reports, before it is turned into a Python exception.
#[derive(Debug)]
pub enum Error {
    Session(wtq::SessionError),
    Write(wtq::WriteError),
    Read(wtq::ReadError),
    Client(wtq::ClientError),
    Server(wtq::ServerError),
    SessionClosedLocally(&'static str),
    StreamClosedLocally(&'static str),
    TooLong { limit: usize },
    Incomplete { expected: usize, partial: Bytes },
    Connect(String),
    Rejected(u16),
    Protocol(String),
    DatagramTooLarge { size: usize, max: usize },
    Value(String),
    Type(String),
    Os(std::io::Error),
    Runtime(String),
    EndOfIteration,
}

impl Error {
    /// The session error inside, if this is one (directly or through a stream error).
    fn session_error(&self) -> Option<&wtq::SessionError> {
        match self {
            Error::Session(s)
            | Error::Read(wtq::ReadError::SessionError(s))
            | Error::Write(wtq::WriteError::SessionError(s)) => Some(s),
            _ => None,
        }
    }

    /// The same error with its session error replaced by `session`.
    fn with_session(self, session: wtq::SessionError) -> Error {
        match self {
            Error::Session(_) => Error::Session(session),
            Error::Read(wtq::ReadError::SessionError(_)) => {
                Error::Read(wtq::ReadError::SessionError(session))
            }
            Error::Write(wtq::WriteError::SessionError(_)) => {
                Error::Write(wtq::WriteError::SessionError(session))
            }
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Session(e) => write!(f, "{e}"),
            Error::Write(e) => write!(f, "{e}"),
            Error::Read(e) => write!(f, "{e}"),
            Error::Client(e) => write!(f, "{e}"),
            Error::Server(e) => write!(f, "{e}"),
            Error::SessionClosedLocally(what) => write!(f, "session closed locally: {what}"),
            Error::StreamClosedLocally(what) => write!(f, "stream closed locally: {what}"),
            Error::TooLong { limit } => write!(f, "stream exceeded the limit of {limit} bytes"),
            Error::Incomplete { expected, partial } => write!(
                f,
                "stream ended after {} of {expected} expected bytes",
                partial.len()
            ),
            Error::Connect(m) | Error::Protocol(m) | Error::Value(m) | Error::Type(m) => {
                f.write_str(m)
            }
            Error::Runtime(m) => f.write_str(m),
            Error::Rejected(status) => write!(f, "the server rejected the session ({status})"),
            Error::DatagramTooLarge { size, max } => write!(
                f,
                "datagram of {size} bytes exceeds max_datagram_size ({max} bytes)"
            ),
            Error::Os(e) => write!(f, "{e}"),
            Error::EndOfIteration => f.write_str("end of iteration"),
        }
    }
}

impl From<wtq::SessionError> for Error {
    fn from(e: wtq::SessionError) -> Self {
        Error::Session(e)
    }
}
impl From<wtq::WriteError> for Error {
    fn from(e: wtq::WriteError) -> Self {
        Error::Write(e)
    }
}
impl From<wtq::ReadError> for Error {
    fn from(e: wtq::ReadError) -> Self {
        Error::Read(e)
    }
}
impl From<wtq::ClientError> for Error {
    fn from(e: wtq::ClientError) -> Self {
        Error::Client(e)
    }
}
impl From<wtq::ServerError> for Error {
    fn from(e: wtq::ServerError) -> Self {
        Error::Server(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        Python::attach(|py| e.into_pyerr(py))
    }
}

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The module holding the exception classes.
pub fn exceptions_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(EXCEPTIONS
        .get_or_try_init(py, || {
            py.import("web_transport._exceptions").map(Bound::unbind)
        })?
        .bind(py))
}

/// Build `web_transport.<name>(message, **kwargs)`.
fn raise(py: Python<'_>, name: &str, message: String, kwargs: &[(&str, Py<PyAny>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = exceptions_module(py)?.getattr(name)?;
        let kw = PyDict::new(py);
        for (k, v) in kwargs {
            kw.set_item(k, v)?;
        }
        let value = class.call((message,), Some(&kw))?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|e| e)
}

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Py<PyAny> {
    match v.into_pyobject(py) {
        Ok(o) => o.into_any().unbind(),
        Err(_) => py.None(),
    }
}

impl Error {
    /// Turn the error into the documented Python exception.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let message = self.to_string();
        match self {
            Error::Session(e) => session_error(py, e),
            Error::Write(e) => match e {
                wtq::WriteError::Stopped(code) => raise(
                    py,
                    "StreamClosedByPeer",
                    format!("the peer sent STOP_SENDING with code {code}"),
                    &[("kind", obj(py, "stop")), ("code", obj(py, code))],
                ),
                wtq::WriteError::InvalidStopped(code) => raise(
                    py,
                    "ProtocolError",
                    format!("STOP_SENDING with a code outside the WebTransport range: {code}"),
                    &[],
                ),
                wtq::WriteError::SessionError(e) => session_error(py, e),
                wtq::WriteError::ClosedStream => raise(
                    py,
                    "StreamClosedLocally",
                    "the stream was already finished or reset".into(),
                    &[],
                ),
            },
            Error::Read(e) => match e {
                wtq::ReadError::Reset(code) => raise(
                    py,
                    "StreamClosedByPeer",
                    format!("the peer sent RESET_STREAM with code {code}"),
                    &[("kind", obj(py, "reset")), ("code", obj(py, code))],
                ),
                wtq::ReadError::InvalidReset(code) => raise(
                    py,
                    "ProtocolError",
                    format!("RESET_STREAM with a code outside the WebTransport range: {code}"),
                    &[],
                ),
                wtq::ReadError::SessionError(e) => session_error(py, e),
                wtq::ReadError::ClosedStream => raise(
                    py,
                    "StreamClosedLocally",
                    "the stream was already stopped".into(),
                    &[],
                ),
                wtq::ReadError::IllegalOrderedRead => raise(py, "ProtocolError", message, &[]),
            },
            Error::Client(e) => client_error(py, e),
            Error::Server(e) => server_error(py, e),
            Error::SessionClosedLocally(_) => raise(py, "SessionClosedLocally", message, &[]),
            Error::StreamClosedLocally(_) => raise(py, "StreamClosedLocally", message, &[]),
            Error::TooLong { limit } => raise(
                py,
                "StreamTooLongError",
                message,
                &[("limit", obj(py, limit))],
            ),
            Error::Incomplete { expected, partial } => raise(
                py,
                "StreamIncompleteReadError",
                message,
                &[
                    ("expected", obj(py, expected)),
                    ("partial", PyBytes::new(py, &partial).into_any().unbind()),
                ],
            ),
            Error::Connect(_) => raise(py, "ConnectError", message, &[]),
            Error::Rejected(status) => raise(
                py,
                "SessionRejected",
                message,
                &[("status_code", obj(py, status))],
            ),
            Error::Protocol(_) => raise(py, "ProtocolError", message, &[]),
            Error::DatagramTooLarge { .. } => raise(py, "DatagramTooLargeError", message, &[]),
            Error::Value(m) => PyValueError::new_err(m),
            Error::Type(m) => PyTypeError::new_err(m),
            Error::Os(e) => PyErr::from(e),
            Error::Runtime(m) => PyRuntimeError::new_err(m),
            Error::EndOfIteration => PyStopAsyncIteration::new_err(()),
        }
    }
}

/// Map a session error (the close reason of a session) to its exception.
pub fn session_error(py: Python<'_>, e: wtq::SessionError) -> PyErr {
    match e {
        wtq::SessionError::WebTransportError(wtq::WebTransportError::Closed(code, reason)) => {
            raise(
                py,
                "SessionClosedByPeer",
                format!("the peer closed the session with code {code}: {reason:?}"),
                &[
                    ("source", obj(py, "session")),
                    ("code", obj(py, code)),
                    ("reason", obj(py, reason)),
                ],
            )
        }
        wtq::SessionError::WebTransportError(other) => raise(
            py,
            "ProtocolError",
            format!("WebTransport error: {other}"),
            &[],
        ),
        wtq::SessionError::ConnectionError(c) => connection_error(py, c),
        wtq::SessionError::SendDatagramError(d) => match d {
            quinn::SendDatagramError::UnsupportedByPeer => raise(
                py,
                "DatagramNotSupportedError",
                "the peer does not accept datagrams".into(),
                &[("reason", obj(py, "unsupported_by_peer"))],
            ),
            quinn::SendDatagramError::Disabled => raise(
                py,
                "DatagramNotSupportedError",
                "datagrams are disabled on this side".into(),
                &[("reason", obj(py, "disabled_locally"))],
            ),
            quinn::SendDatagramError::TooLarge => raise(
                py,
                "DatagramTooLargeError",
                "datagram exceeds max_datagram_size".into(),
                &[],
            ),
            quinn::SendDatagramError::ConnectionLost(c) => {
                session_error(py, wtq::SessionError::from(c))
            }
        },
    }
}

fn connection_error(py: Python<'_>, c: quinn::ConnectionError) -> PyErr {
    match c {
        quinn::ConnectionError::LocallyClosed => raise(
            py,
            "SessionClosedLocally",
            "the session was closed locally".into(),
            &[],
        ),
        quinn::ConnectionError::ApplicationClosed(close) => {
            let raw = close.error_code.into_inner();
            let code = web_transport_quinn::proto::error_from_http3(raw).map_or(raw, u64::from);
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            raise(
                py,
                "SessionClosedByPeer",
                format!("the peer closed the connection with code {code}: {reason:?}"),
                &[
                    ("source", obj(py, "application")),
                    ("code", obj(py, code)),
                    ("reason", obj(py, reason)),
                ],
            )
        }
        quinn::ConnectionError::ConnectionClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            raise(
                py,
                "SessionClosedByPeer",
                format!("the peer closed the connection: {close}"),
                &[
                    ("source", obj(py, "transport")),
                    ("reason", obj(py, reason)),
                ],
            )
        }
        quinn::ConnectionError::Reset => raise(
            py,
            "SessionClosedByPeer",
            "the peer reset the connection (stateless reset)".into(),
            &[("source", obj(py, "connection-reset"))],
        ),
        quinn::ConnectionError::TimedOut => raise(
            py,
            "SessionTimeout",
            "the session timed out (no packets from the peer within max_idle_timeout)".into(),
            &[],
        ),
        other => raise(py, "ProtocolError", format!("QUIC error: {other}"), &[]),
    }
}

fn client_error(py: Python<'_>, e: wtq::ClientError) -> PyErr {
    match e {
        wtq::ClientError::HttpError(wtq::ConnectError::ErrorStatus(status))
        | wtq::ClientError::HttpError(wtq::ConnectError::ProtoError(
            wtq::proto::ConnectError::WrongStatus(Some(status)),
        )) => Error::Rejected(status.as_u16()).into_pyerr(py),
        wtq::ClientError::Connection(quinn::ConnectionError::TimedOut) => raise(
            py,
            "ConnectError",
            "timed out connecting to the server (no answer within max_idle_timeout)".into(),
            &[],
        ),
        wtq::ClientError::Connection(quinn::ConnectionError::TransportError(t)) => raise(
            py,
            "ConnectError",
            format!("the QUIC handshake failed: {t}"),
            &[],
        ),
        wtq::ClientError::Connection(quinn::ConnectionError::ConnectionClosed(c)) => raise(
            py,
            "ConnectError",
            format!("the server closed the connection during the handshake: {c}"),
            &[],
        ),
        wtq::ClientError::InvalidDnsName(name) => raise(
            py,
            "ConnectError",
            format!("cannot resolve host {name:?}"),
            &[],
        ),
        other => raise(py, "ConnectError", format!("cannot connect: {other}"), &[]),
    }
}

fn server_error(py: Python<'_>, e: wtq::ServerError) -> PyErr {
    match e {
        wtq::ServerError::Connection(c) => connection_error(py, c),
        wtq::ServerError::IoError(io) => PyOSError::new_err(io.to_string()),
        other => raise(
            py,
            "ProtocolError",
            format!("handshake failed: {other}"),
            &[],
        ),
    }
}

/// Where a session's close came from, to correct one ambiguity of web-transport-quinn:
/// it records "closed locally" both when this side closed and when the CONNECT stream
/// ended without a close capsule (the peer closed the session with code 0, or the
/// connection was lost, e.g. by idle timeout). Only our own flags know which.
///
/// quinn itself overwrites a connection's close reason with "locally closed" when the
/// crate closes an already-closed connection, so a watcher task records the reason the
/// connection really ended with as soon as it ends.
#[derive(Clone)]
pub struct Origin {
    /// Shared by every clone (streams hold one each): one pointer, not a session copy.
    session: Arc<wtq::Session>,
    session_closing: Arc<AtomicBool>,
    endpoint_closing: Arc<AtomicBool>,
    ended: Arc<std::sync::OnceLock<quinn::ConnectionError>>,
    activity: Arc<Activity>,
}

/// The owning endpoint's close flag and settings, given to each of its sessions.
#[derive(Clone)]
pub struct EndpointInfo {
    pub closing: Arc<AtomicBool>,
    pub idle_timeout: Option<std::time::Duration>,
    /// Whether this endpoint may send datagrams: quinn refuses ("disabled locally")
    /// when its `datagram_receive_buffer_size` is `None`.
    pub datagrams: bool,
}

impl EndpointInfo {
    /// The info of a new (open) endpoint with these settings.
    pub fn new(settings: &crate::config::Transport) -> Self {
        Self {
            closing: Arc::new(AtomicBool::new(false)),
            idle_timeout: settings.max_idle_timeout,
            datagrams: settings.config.datagram_receive_buffer_size.is_some(),
        }
    }
}

/// When packets last arrived, sampled: an idle timeout is the one ending that comes after
/// a silence; the peer's close always comes with a packet.
struct Activity {
    state: std::sync::Mutex<(u64, std::time::Instant)>,
}

impl Activity {
    fn sample(&self, rx: u64) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.0 != rx {
            *s = (rx, std::time::Instant::now());
        }
    }

    /// True if nothing arrived since the last sample and that was a while ago.
    fn silent(&self, rx: u64) -> bool {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 == rx && s.1.elapsed() >= std::time::Duration::from_millis(200)
    }
}

impl Origin {
    pub fn new(session: Arc<wtq::Session>, endpoint: &EndpointInfo) -> Self {
        // For the watcher task below (quinn's connection, not the crate's session).
        let conn = quinn::Connection::clone(&session);
        let origin = Self {
            session,
            activity: Arc::new(Activity {
                state: std::sync::Mutex::new((
                    conn.stats().udp_rx.datagrams,
                    std::time::Instant::now(),
                )),
            }),
            session_closing: Arc::new(AtomicBool::new(false)),
            endpoint_closing: endpoint.closing.clone(),
            ended: Arc::new(std::sync::OnceLock::new()),
        };
        let ended = origin.ended.clone();
        let activity = origin.activity.clone();
        // Sample a few times per idle period (at least every 100 ms, at most every 5 s).
        let period = endpoint
            .idle_timeout
            .map_or(std::time::Duration::from_secs(5), |d| d / 4)
            .clamp(
                std::time::Duration::from_millis(100),
                std::time::Duration::from_secs(5),
            );
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
                    _ = tick.tick() => activity.sample(conn.stats().udp_rx.datagrams),
                }
            }
        });
        origin
    }

    /// The session's QUIC connection (quinn's own `close_reason`, not the crate's).
    fn conn(&self) -> &quinn::Connection {
        &self.session
    }

    /// Mark the session as closed by this side; true if it already was.
    pub fn close_locally(&self) -> bool {
        self.session_closing.swap(true, Ordering::SeqCst)
    }

    pub fn closed_locally(&self) -> bool {
        self.session_closing.load(Ordering::SeqCst) || self.endpoint_closing.load(Ordering::SeqCst)
    }

    /// Replace a "closed locally" this side did not cause by the real reason.
    pub fn session(&self, e: wtq::SessionError) -> wtq::SessionError {
        if !matches!(
            e,
            wtq::SessionError::ConnectionError(quinn::ConnectionError::LocallyClosed)
        ) || self.closed_locally()
        {
            return e;
        }
        let real = self
            .ended
            .get()
            .cloned()
            .filter(|r| !matches!(r, quinn::ConnectionError::LocallyClosed))
            .or_else(|| self.conn().close_reason());
        match real {
            Some(quinn::ConnectionError::LocallyClosed) | None => {
                let stats = self.conn().stats();
                if stats.frame_rx.connection_close == 0
                    && self.activity.silent(stats.udp_rx.datagrams)
                {
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

    pub fn fix(&self, e: Error) -> Error {
        match e {
            Error::Session(s) => Error::Session(self.session(s)),
            Error::Read(wtq::ReadError::SessionError(s)) => {
                Error::Read(wtq::ReadError::SessionError(self.session(s)))
            }
            Error::Write(wtq::WriteError::SessionError(s)) => {
                Error::Write(wtq::WriteError::SessionError(self.session(s)))
            }
            other => other,
        }
    }

    /// Run `fut`, correcting its error. A session error that is a bare connection error
    /// waits for the crate to record a close capsule that came with it ([`settle_close`])
    /// and reports the capsule's code and reason instead.
    pub async fn fixed<T>(
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
            return Err(self.fix(err));
        }
        settle_close(&self.session).await;
        let err = match self.session.close_reason() {
            Some(recorded @ wtq::SessionError::WebTransportError(_)) => err.with_session(recorded),
            _ => err,
        };
        Err(self.fix(err))
    }
}

/// How long [`settle_close`] waits for the crate to record a close capsule.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether the crate has recorded why the session ended: its CONNECT-stream reader stores
/// the close capsule (`WebTransportError::Closed`) or, without one, `LocallyClosed`; a
/// bare connection error means that reader has not run yet.
fn close_recorded(session: &wtq::Session) -> bool {
    matches!(
        session.close_reason(),
        None | Some(wtq::SessionError::WebTransportError(_))
            | Some(wtq::SessionError::ConnectionError(
                quinn::ConnectionError::LocallyClosed
            ))
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
    while !close_recorded(session) && tokio::time::Instant::now() < deadline {
        // The reader is usually ready to run: a few scheduler turns are enough.
        if turns < 16 {
            tokio::task::yield_now().await;
            turns += 1;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

/// Validate a WebTransport application error code (a 32-bit unsigned integer,
/// draft-ietf-webtrans-http3 §4.4). Non-integers raise `TypeError`, integers out of
/// range `ValueError`, both naming the argument.
pub fn check_code(name: &str, code: Option<&Bound<'_, PyAny>>) -> PyResult<u32> {
    let Some(code) = code else { return Ok(0) };
    if !code.is_instance_of::<pyo3::types::PyInt>() || code.is_instance_of::<pyo3::types::PyBool>()
    {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not {}",
            code.get_type().name()?
        )));
    }
    code.extract::<u32>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a WebTransport error code between 0 and 4294967295, got {code}"
        ))
    })
}

/// The longest close reason the close capsule may carry (draft-ietf-webtrans-http3 §5).
pub const MAX_REASON_BYTES: usize = 1024;

/// Validate a session close reason: at most [`MAX_REASON_BYTES`] of UTF-8, else
/// `ValueError`.
pub fn check_reason(reason: &str) -> PyResult<()> {
    if reason.len() > MAX_REASON_BYTES {
        return Err(PyValueError::new_err(format!(
            "reason must be at most {MAX_REASON_BYTES} bytes of UTF-8, got {}",
            reason.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start an interpreter that can import `web_transport._exceptions` from the source
    /// tree without the (possibly unbuilt) native module: a bare package object stands in
    /// for `web_transport`.
    fn with_py<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
        Python::initialize();
        Python::attach(|py| {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python/web_transport");
            let sys = py.import("sys").expect("sys");
            let modules = sys.getattr("modules").expect("sys.modules");
            if !modules.contains("web_transport").expect("contains") {
                let package = PyModule::new(py, "web_transport").expect("module");
                package.setattr("__path__", vec![dir]).expect("__path__");
                modules
                    .set_item("web_transport", package)
                    .expect("register");
            }
            f(py)
        })
    }

    fn attr(py: Python<'_>, err: &PyErr, name: &str) -> String {
        err.value(py)
            .getattr(name)
            .and_then(|v| v.repr())
            .map(|r| r.to_string())
            .unwrap_or_else(|e| format!("<{e}>"))
    }

    fn class(py: Python<'_>, err: &PyErr) -> String {
        err.get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn stream_codes_map_to_stream_closed_by_peer() {
        with_py(|py| {
            let reset = Error::Read(wtq::ReadError::Reset(7)).into_pyerr(py);
            assert_eq!(class(py, &reset), "StreamClosedByPeer");
            assert_eq!(attr(py, &reset, "kind"), "'reset'");
            assert_eq!(attr(py, &reset, "code"), "7");
            let stop = Error::Write(wtq::WriteError::Stopped(u32::MAX)).into_pyerr(py);
            assert_eq!(attr(py, &stop, "kind"), "'stop'");
            assert_eq!(attr(py, &stop, "code"), "4294967295");
            let local = Error::Write(wtq::WriteError::ClosedStream).into_pyerr(py);
            assert_eq!(class(py, &local), "StreamClosedLocally");
        });
    }

    #[test]
    fn session_closes_map_by_source() {
        with_py(|py| {
            let capsule = Error::Session(wtq::SessionError::WebTransportError(
                wtq::WebTransportError::Closed(4000, "bye".into()),
            ))
            .into_pyerr(py);
            assert_eq!(class(py, &capsule), "SessionClosedByPeer");
            assert_eq!(attr(py, &capsule, "source"), "'session'");
            assert_eq!(attr(py, &capsule, "code"), "4000");
            assert_eq!(attr(py, &capsule, "reason"), "'bye'");
            let timeout = session_error(
                py,
                wtq::SessionError::ConnectionError(quinn::ConnectionError::TimedOut),
            );
            assert_eq!(class(py, &timeout), "SessionTimeout");
            let reset = session_error(
                py,
                wtq::SessionError::ConnectionError(quinn::ConnectionError::Reset),
            );
            assert_eq!(attr(py, &reset, "source"), "'connection-reset'");
            let local = session_error(
                py,
                wtq::SessionError::ConnectionError(quinn::ConnectionError::LocallyClosed),
            );
            assert_eq!(class(py, &local), "SessionClosedLocally");
        });
    }

    #[test]
    fn rejections_and_datagrams() {
        with_py(|py| {
            let rejected = Error::Rejected(403).into_pyerr(py);
            assert_eq!(class(py, &rejected), "SessionRejected");
            assert_eq!(attr(py, &rejected, "status_code"), "403");
            let unsupported = session_error(
                py,
                wtq::SessionError::SendDatagramError(quinn::SendDatagramError::UnsupportedByPeer),
            );
            assert_eq!(attr(py, &unsupported, "reason"), "'unsupported_by_peer'");
            let incomplete = Error::Incomplete {
                expected: 5,
                partial: Bytes::from_static(b"ab"),
            }
            .into_pyerr(py);
            assert_eq!(attr(py, &incomplete, "partial"), "b'ab'");
            assert_eq!(attr(py, &incomplete, "expected"), "5");
        });
    }

    #[test]
    fn codes_are_checked() {
        with_py(|py| {
            let ok = 4_294_967_295u64.into_pyobject(py).expect("int").into_any();
            assert_eq!(check_code("code", Some(&ok)).ok(), Some(u32::MAX));
            let big = 4_294_967_296u64.into_pyobject(py).expect("int").into_any();
            let err = check_code("code", Some(&big)).expect_err("out of range");
            assert!(err.is_instance_of::<PyValueError>(py));
            let neg = (-1i64).into_pyobject(py).expect("int").into_any();
            assert!(check_code("code", Some(&neg)).is_err());
            let text = "1".into_pyobject(py).expect("str").into_any();
            let err = check_code("error_code", Some(&text)).expect_err("type");
            assert!(err.is_instance_of::<PyTypeError>(py));
            assert!(err.to_string().contains("error_code"));
            assert_eq!(check_code("code", None).ok(), Some(0));
        });
    }
}
