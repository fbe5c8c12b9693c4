//! The one place where Rust errors become Python exceptions.
//!
//! The exception classes are defined in Python (`web_transport/_exceptions.py`, so they
//! carry typed attributes and docstrings; `exceptions.rs` holds one handle on each); this
//! module maps every error of web-transport-quinn and quinn onto them. Nothing else
//! constructs Python exceptions for network or protocol conditions.

use std::fmt;

use bytes::Bytes;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyStopAsyncIteration};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use web_transport_quinn as wtq;
use wtq::quinn;

use crate::exceptions::{obj, raise, raise_with, Class};

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
    Rejected(u16),
    DatagramTooLarge { size: usize, max: usize },
    Runtime(String),
    EndOfIteration,
}

impl Error {
    /// The session error inside, if this is one (directly or through a stream error).
    pub fn session_error(&self) -> Option<&wtq::SessionError> {
        match self {
            Error::Session(s)
            | Error::Read(wtq::ReadError::SessionError(s))
            | Error::Write(wtq::WriteError::SessionError(s)) => Some(s),
            _ => None,
        }
    }

    /// The same error with its session error (if any) replaced by `f` of it.
    pub fn map_session_error(
        self,
        f: impl FnOnce(wtq::SessionError) -> wtq::SessionError,
    ) -> Error {
        match self {
            Error::Session(s) => Error::Session(f(s)),
            Error::Read(wtq::ReadError::SessionError(s)) => {
                Error::Read(wtq::ReadError::SessionError(f(s)))
            }
            Error::Write(wtq::WriteError::SessionError(s)) => {
                Error::Write(wtq::WriteError::SessionError(f(s)))
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
            Error::Runtime(m) => f.write_str(m),
            Error::Rejected(status) => write!(f, "the server rejected the session ({status})"),
            Error::DatagramTooLarge { size, max } => write!(
                f,
                "datagram of {size} bytes exceeds max_datagram_size ({max} bytes)"
            ),
            Error::EndOfIteration => f.write_str("end of iteration"),
        }
    }
}

/// `?` on the crate's errors.
macro_rules! from_crate_errors {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        })*
    };
}

from_crate_errors!(
    Session(wtq::SessionError),
    Write(wtq::WriteError),
    Read(wtq::ReadError),
    Client(wtq::ClientError),
    Server(wtq::ServerError),
);

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        Python::attach(|py| e.into_pyerr(py))
    }
}

/// An `OSError` that keeps the operating system's error number (`OSError.errno`), its
/// message prefixed with `context`.
pub fn os_error(context: &str, e: &std::io::Error) -> PyErr {
    PyOSError::new_err((e.raw_os_error().unwrap_or(0), format!("{context}: {e}")))
}

impl Error {
    /// Turn the error into the documented Python exception.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let message = self.to_string();
        let local = |m: &str| raise(py, Class::StreamClosedLocally, m);
        let by_peer = |kind, frame, code| stream_closed_by_peer(py, kind, frame, code);
        match self {
            Error::Session(e) => session_error(py, e),
            Error::Write(e) => match e {
                wtq::WriteError::Stopped(code) => by_peer("stop", "STOP_SENDING", code),
                wtq::WriteError::InvalidStopped(code) => invalid_code(py, "STOP_SENDING", code),
                wtq::WriteError::SessionError(e) => session_error(py, e),
                wtq::WriteError::ClosedStream => local("the stream was already finished or reset"),
            },
            Error::Read(e) => match e {
                wtq::ReadError::Reset(code) => by_peer("reset", "RESET_STREAM", code),
                wtq::ReadError::InvalidReset(code) => invalid_code(py, "RESET_STREAM", code),
                wtq::ReadError::SessionError(e) => session_error(py, e),
                wtq::ReadError::ClosedStream => local("the stream was already stopped"),
                wtq::ReadError::IllegalOrderedRead => raise(py, Class::ProtocolError, message),
            },
            Error::Client(e) => client_error(py, e),
            Error::Server(e) => server_error(py, e),
            Error::SessionClosedLocally(_) => raise(py, Class::SessionClosedLocally, message),
            Error::StreamClosedLocally(_) => raise(py, Class::StreamClosedLocally, message),
            Error::TooLong { limit } => raise_with(
                py,
                Class::StreamTooLongError,
                message,
                &[("limit", obj(py, limit))],
            ),
            Error::Incomplete { expected, partial } => raise_with(
                py,
                Class::StreamIncompleteReadError,
                message,
                &[
                    ("expected", obj(py, expected)),
                    ("partial", PyBytes::new(py, &partial).into_any().unbind()),
                ],
            ),
            Error::Rejected(status) => raise_with(
                py,
                Class::SessionRejected,
                message,
                &[("status_code", obj(py, status))],
            ),
            Error::DatagramTooLarge { .. } => raise(py, Class::DatagramTooLargeError, message),
            Error::Runtime(m) => PyRuntimeError::new_err(m),
            Error::EndOfIteration => PyStopAsyncIteration::new_err(()),
        }
    }
}

/// The peer ended a stream with `frame` (RESET_STREAM or STOP_SENDING) and `code`.
fn stream_closed_by_peer(py: Python<'_>, kind: &str, frame: &str, code: u32) -> PyErr {
    let message = format!("the peer sent {frame} with code {code}");
    raise_with(
        py,
        Class::StreamClosedByPeer,
        message,
        &[("kind", obj(py, kind)), ("code", obj(py, code))],
    )
}

/// A `frame` whose code is outside the WebTransport range (draft-ietf-webtrans-http3 §4.4).
fn invalid_code(py: Python<'_>, frame: &str, code: quinn::VarInt) -> PyErr {
    let message = format!("{frame} with a code outside the WebTransport range: {code}");
    raise(py, Class::ProtocolError, message)
}

/// `SessionClosedByPeer` from `source` (where the close came from), with the close's
/// code and reason where it has them.
fn closed_by_peer(
    py: Python<'_>,
    source: &str,
    message: String,
    code: Option<u64>,
    reason: Option<String>,
) -> PyErr {
    let mut kwargs = vec![("source", obj(py, source))];
    if let Some(code) = code {
        kwargs.push(("code", obj(py, code)));
    }
    if let Some(reason) = reason {
        kwargs.push(("reason", obj(py, reason)));
    }
    raise_with(py, Class::SessionClosedByPeer, message, &kwargs)
}

/// `DatagramNotSupportedError` with its `reason`.
fn datagrams_unsupported(py: Python<'_>, reason: &str, message: &str) -> PyErr {
    raise_with(
        py,
        Class::DatagramNotSupportedError,
        message,
        &[("reason", obj(py, reason))],
    )
}

/// Map a session error (the close reason of a session) to its exception.
pub fn session_error(py: Python<'_>, e: wtq::SessionError) -> PyErr {
    match e {
        wtq::SessionError::WebTransportError(wtq::WebTransportError::Closed(code, reason)) => {
            let message = format!("the peer closed the session with code {code}: {reason:?}");
            closed_by_peer(py, "session", message, Some(code.into()), Some(reason))
        }
        wtq::SessionError::WebTransportError(other) => raise(
            py,
            Class::ProtocolError,
            format!("WebTransport error: {other}"),
        ),
        wtq::SessionError::ConnectionError(c) => connection_error(py, c),
        wtq::SessionError::SendDatagramError(d) => match d {
            quinn::SendDatagramError::UnsupportedByPeer => datagrams_unsupported(
                py,
                "unsupported_by_peer",
                "the peer does not accept datagrams",
            ),
            quinn::SendDatagramError::Disabled => datagrams_unsupported(
                py,
                "disabled_locally",
                "datagrams are disabled on this side",
            ),
            quinn::SendDatagramError::TooLarge => raise(
                py,
                Class::DatagramTooLargeError,
                "datagram exceeds max_datagram_size",
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
            Class::SessionClosedLocally,
            "the session was closed locally",
        ),
        quinn::ConnectionError::ApplicationClosed(close) => {
            let raw = close.error_code.into_inner();
            let code = web_transport_quinn::proto::error_from_http3(raw).map_or(raw, u64::from);
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            let message = format!("the peer closed the connection with code {code}: {reason:?}");
            closed_by_peer(py, "application", message, Some(code), Some(reason))
        }
        quinn::ConnectionError::ConnectionClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            let message = format!("the peer closed the connection: {close}");
            closed_by_peer(py, "transport", message, None, Some(reason))
        }
        quinn::ConnectionError::Reset => {
            let message = "the peer reset the connection (stateless reset)".into();
            closed_by_peer(py, "connection-reset", message, None, None)
        }
        quinn::ConnectionError::TimedOut => raise(
            py,
            Class::SessionTimeout,
            "the session timed out (no packets from the peer within max_idle_timeout)",
        ),
        other => raise(py, Class::ProtocolError, format!("QUIC error: {other}")),
    }
}

fn client_error(py: Python<'_>, e: wtq::ClientError) -> PyErr {
    match e {
        wtq::ClientError::HttpError(
            wtq::ConnectError::ErrorStatus(status)
            | wtq::ConnectError::ProtoError(wtq::proto::ConnectError::WrongStatus(Some(status))),
        ) => Error::Rejected(status.as_u16()).into_pyerr(py),
        wtq::ClientError::Connection(quinn::ConnectionError::TimedOut) => raise(
            py,
            Class::ConnectError,
            "timed out connecting to the server: no answer over UDP within max_idle_timeout \
             (is the server running, and does UDP reach its port?)",
        ),
        wtq::ClientError::Connection(quinn::ConnectionError::TransportError(t)) => {
            let message = crate::certificate_refusal::refused_certificate(&t.reason)
                .unwrap_or_else(|| format!("the QUIC handshake failed: {t}"));
            raise(py, Class::ConnectError, message)
        }
        wtq::ClientError::Connection(quinn::ConnectionError::ConnectionClosed(c)) => raise(
            py,
            Class::ConnectError,
            format!("the server closed the connection during the handshake: {c}"),
        ),
        wtq::ClientError::InvalidDnsName(name) => raise(
            py,
            Class::ConnectError,
            format!("cannot resolve host {name:?}"),
        ),
        other => raise(py, Class::ConnectError, format!("cannot connect: {other}")),
    }
}

fn server_error(py: Python<'_>, e: wtq::ServerError) -> PyErr {
    match e {
        wtq::ServerError::Connection(c) => connection_error(py, c),
        wtq::ServerError::IoError(io) => match io.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, io.to_string())),
            None => PyOSError::new_err(io.to_string()),
        },
        other => raise(
            py,
            Class::ProtocolError,
            format!("handshake failed: {other}"),
        ),
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
