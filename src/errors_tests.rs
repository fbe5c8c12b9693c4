//! Unit tests of the error mapping (`errors.rs`): each case builds the exception from
//! the source tree's `_exceptions.py`.

use super::*;
use crate::exceptions::{exceptions_module, CLASS_NAMES};
use crate::test_support::with_py;

fn attr(py: Python<'_>, err: &PyErr, name: &str) -> String {
    err.value(py)
        .getattr(name)
        .and_then(|v| v.repr())
        .map_or_else(|e| format!("<{e}>"), |r| r.to_string())
}

fn class(py: Python<'_>, err: &PyErr) -> String {
    err.get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

#[test]
fn every_exception_class_exists() {
    with_py(|py| {
        let module = exceptions_module(py).expect("every class is found");
        for name in CLASS_NAMES {
            assert!(module.getattr(*name).is_ok(), "{name}");
        }
    });
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
