"""The exception hierarchy: every documented class exists, is exported by
``web_transport`` and the native module as the same object, has the documented base
classes, and carries its documented attributes (keyword-only, with the documented
defaults)."""

from __future__ import annotations

import pytest
import web_transport as wt
import web_transport._exceptions as exc_module
import web_transport._web_transport as native

HIERARCHY: dict[str, str] = {
    "WebTransportError": "Exception",
    "SessionError": "WebTransportError",
    "ConnectError": "SessionError",
    "SessionRejected": "ConnectError",
    "SessionClosed": "SessionError",
    "SessionClosedByPeer": "SessionClosed",
    "SessionClosedLocally": "SessionClosed",
    "SessionTimeout": "SessionError",
    "ProtocolError": "SessionError",
    "StreamError": "WebTransportError",
    "StreamClosed": "StreamError",
    "StreamClosedByPeer": "StreamClosed",
    "StreamClosedLocally": "StreamClosed",
    "StreamTooLongError": "StreamError",
    "StreamIncompleteReadError": "StreamError",
    "DatagramError": "WebTransportError",
    "DatagramTooLargeError": "DatagramError",
    "DatagramNotSupportedError": "DatagramError",
}


def test_all_exceptions_exported() -> None:
    assert set(exc_module.__all__) == set(HIERARCHY)
    for name in HIERARCHY:
        cls = getattr(wt, name)
        assert cls is getattr(exc_module, name)
        assert cls is getattr(native, name)
        assert name in wt.__all__


@pytest.mark.parametrize(("name", "base"), HIERARCHY.items())
def test_direct_base(name: str, base: str) -> None:
    cls = getattr(wt, name)
    expected = Exception if base == "Exception" else getattr(wt, base)
    assert cls.__bases__ == (expected,)
    assert issubclass(cls, wt.WebTransportError)
    assert cls.__doc__


def test_siblings_are_distinct() -> None:
    assert not issubclass(wt.StreamError, wt.SessionError)
    assert not issubclass(wt.DatagramError, wt.SessionError)
    assert not issubclass(wt.SessionTimeout, wt.SessionClosed)
    assert not issubclass(wt.SessionClosedLocally, wt.SessionClosedByPeer)
    assert not issubclass(wt.StreamClosedLocally, wt.StreamClosedByPeer)
    assert not issubclass(wt.ConnectError, wt.SessionClosed)


def test_session_rejected() -> None:
    e = wt.SessionRejected("rejected", status_code=403)
    assert e.status_code == 403
    assert str(e) == "rejected"
    assert isinstance(e, wt.ConnectError)
    with pytest.raises(wt.ConnectError):
        raise e
    with pytest.raises(TypeError):
        wt.SessionRejected("x", 403)  # type: ignore
    with pytest.raises(TypeError):
        wt.SessionRejected("x")  # type: ignore


@pytest.mark.parametrize("source", ["session", "application", "transport", "connection-reset"])
def test_session_closed_by_peer(source: str) -> None:
    e = wt.SessionClosedByPeer("closed", source=source, code=7, reason="bye")  # type: ignore
    assert (e.source, e.code, e.reason) == (source, 7, "bye")
    assert isinstance(e, wt.SessionClosed)
    assert str(e) == "closed"


def test_session_closed_by_peer_defaults() -> None:
    e = wt.SessionClosedByPeer("reset", source="connection-reset")
    assert e.code is None
    assert e.reason == ""
    with pytest.raises(TypeError):
        wt.SessionClosedByPeer("x")  # type: ignore


@pytest.mark.parametrize("kind", ["reset", "stop"])
def test_stream_closed_by_peer(kind: str) -> None:
    e = wt.StreamClosedByPeer("closed", kind=kind, code=2**32 - 1)  # type: ignore
    assert (e.kind, e.code) == (kind, 2**32 - 1)
    assert isinstance(e, wt.StreamClosed)
    with pytest.raises(TypeError):
        wt.StreamClosedByPeer("x", kind=kind)  # type: ignore


def test_stream_too_long() -> None:
    e = wt.StreamTooLongError("too long", limit=10)
    assert e.limit == 10
    assert isinstance(e, wt.StreamError)


def test_stream_incomplete_read() -> None:
    e = wt.StreamIncompleteReadError("short", expected=10, partial=b"abc")
    assert (e.expected, e.partial) == (10, b"abc")
    assert isinstance(e, wt.StreamError)


@pytest.mark.parametrize("reason", ["unsupported_by_peer", "disabled_locally"])
def test_datagram_not_supported(reason: str) -> None:
    e = wt.DatagramNotSupportedError("no datagrams", reason=reason)  # type: ignore
    assert e.reason == reason
    assert isinstance(e, wt.DatagramError)


def test_plain_exceptions_take_a_message() -> None:
    for name in (
        "WebTransportError",
        "SessionError",
        "ConnectError",
        "SessionClosed",
        "SessionClosedLocally",
        "SessionTimeout",
        "ProtocolError",
        "StreamError",
        "StreamClosed",
        "StreamClosedLocally",
        "DatagramError",
        "DatagramTooLargeError",
    ):
        e = getattr(wt, name)("message")
        assert str(e) == "message"
        assert e.args == ("message",)
