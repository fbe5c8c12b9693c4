"""The ASGI WebTransport dialect: event names, the events the server sends the
application, and the validation of the events the application sends.

The dialect is aioquic's (``examples/http3_server.py``): the server sends
``webtransport.connect``, ``webtransport.stream.receive {stream, data}`` and
``webtransport.datagram.receive {data}``; the application sends ``webtransport.accept``,
``webtransport.close``, ``webtransport.stream.send {stream, data}`` and
``webtransport.datagram.send {data}``. This package adds fields and events that aioquic's
applications never see unless they ask (``docs/asgi.md`` is the specification):
``end_stream`` on both stream events, ``webtransport.stream.open`` answered by
``webtransport.stream.opened``, ``webtransport.stream.reset`` and
``webtransport.stream.stop_sending`` both ways, ``accept {subprotocol, headers}``,
``webtransport.reject {status}``, ``close {code, reason}`` and
``webtransport.disconnect {code, reason}``.

Stream ids are numbered per session as QUIC numbers streams (RFC 9000 §2.1): bit 0 is
the initiator (0 client, 1 server), bit 1 the direction (0 bidirectional, 1
unidirectional): client bidirectional streams are 0, 4, 8, ..., server bidirectional
1, 5, ..., client unidirectional 2, 6, ..., server unidirectional 3, 7, ....
"""

from __future__ import annotations

from typing import Any, Final

#: ``asgi["spec_version"]`` of the ``webtransport`` scope: the version of this dialect.
SPEC_VERSION: Final = "1.0"

# Server -> application.
CONNECT: Final = "webtransport.connect"
STREAM_RECEIVE: Final = "webtransport.stream.receive"
DATAGRAM_RECEIVE: Final = "webtransport.datagram.receive"
STREAM_OPENED: Final = "webtransport.stream.opened"
DISCONNECT: Final = "webtransport.disconnect"
# Both ways.
STREAM_RESET: Final = "webtransport.stream.reset"
STREAM_STOP_SENDING: Final = "webtransport.stream.stop_sending"
# Application -> server.
ACCEPT: Final = "webtransport.accept"
REJECT: Final = "webtransport.reject"
CLOSE: Final = "webtransport.close"
STREAM_SEND: Final = "webtransport.stream.send"
DATAGRAM_SEND: Final = "webtransport.datagram.send"
STREAM_OPEN: Final = "webtransport.stream.open"

#: Close code of a session whose application raised after accepting it (the WebSocket
#: "internal error" code, RFC 6455 §7.4.1, which ASGI servers use for the same case).
INTERNAL_ERROR: Final = 1011
#: HTTP status answering a CONNECT whose application raised, or returned, before it
#: accepted or rejected the session.
APP_ERROR_STATUS: Final = 500
#: HTTP status answering a CONNECT whose application did not accept or reject it within
#: ``Config.accept_timeout``.
ACCEPT_TIMEOUT_STATUS: Final = 504
#: HTTP status of ``webtransport.close`` before ``webtransport.accept`` (aioquic's
#: answer) and the default of ``webtransport.reject``.
CLOSE_BEFORE_ACCEPT_STATUS: Final = 403

_BYTES = (bytes, bytearray, memoryview)
_REQUIRED = object()

#: For each event the application may send: field -> (accepted types, default or
#: ``_REQUIRED``, the type's name for messages). Unknown keys are ignored (ASGI).
_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], object, str]]] = {
    ACCEPT: {
        "subprotocol": ((str, type(None)), None, "str or None"),
        "headers": ((list, tuple), (), "an iterable of (bytes, bytes) pairs"),
    },
    REJECT: {"status": ((int,), CLOSE_BEFORE_ACCEPT_STATUS, "int")},
    CLOSE: {
        "code": ((int,), 0, "int"),
        "reason": ((str,), "", "str"),
        "status": ((int,), CLOSE_BEFORE_ACCEPT_STATUS, "int"),
    },
    STREAM_SEND: {
        "stream": ((int,), _REQUIRED, "int"),
        "data": (_BYTES, b"", "bytes"),
        "end_stream": ((bool,), False, "bool"),
    },
    DATAGRAM_SEND: {"data": (_BYTES, _REQUIRED, "bytes")},
    STREAM_OPEN: {"unidirectional": ((bool,), False, "bool")},
    STREAM_RESET: {"stream": ((int,), _REQUIRED, "int"), "code": ((int,), 0, "int")},
    STREAM_STOP_SENDING: {"stream": ((int,), _REQUIRED, "int"), "code": ((int,), 0, "int")},
}

#: Integer fields' ranges: WebTransport codes are 32-bit (draft-ietf-webtrans-http3 §4.3,
#: §5), stream ids QUIC variable-length integers (RFC 9000 §16), statuses HTTP's.
_RANGES = (("code", 0, 2**32 - 1), ("stream", 0, 2**62 - 1), ("status", 100, 599))

#: channels-webtransport's name of STOP_SENDING from the application.
_ALIASES = {"webtransport.stream.stop_receiving": STREAM_STOP_SENDING}

#: Event types the application may send, for messages.
SEND_TYPES: Final = tuple(_FIELDS)


def validate(message: Any) -> tuple[str, dict[str, Any]]:
    """Check an event the application passed to ``send()``; return its type and its
    fields with defaults filled in.

    Raises:
        TypeError: ``message`` is not a mapping, or a field has the wrong type (the
            message names the event and the field).
        ValueError: The type is unknown, a required field is missing, or a code is
            outside 0..2**32-1 (the message names the event and the field).
    """
    try:
        kind = message["type"]
    except (TypeError, KeyError, IndexError):
        raise TypeError(
            f"ASGI send(): an event is a dict with a 'type' key, got {message!r:.100}"
        ) from None
    fields = _FIELDS.get(_ALIASES.get(kind, kind))
    if fields is None:
        raise ValueError(
            f"ASGI send(): unknown event type {kind!r:.100}; a webtransport application "
            f"sends one of {', '.join(SEND_TYPES)}"
        )
    out: dict[str, Any] = {}
    for name, (types, default, type_name) in fields.items():
        value = message.get(name, default)
        if value is _REQUIRED:
            raise ValueError(f"ASGI send(): {kind!r} event has no {name!r} field ({type_name})")
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise TypeError(
                f"ASGI send(): {kind!r} event field {name!r} must be {type_name}, "
                f"got {type(value).__name__}"
            )
        out[name] = value
    for name, low, high in _RANGES:
        value = out.get(name)
        if value is not None and not low <= value <= high:
            raise ValueError(
                f"ASGI send(): {kind!r} event field {name!r} is {value}, outside {low}..{high}"
            )
    if kind in (REJECT, CLOSE) and 200 <= out["status"] <= 299:
        raise ValueError(f"ASGI send(): {kind!r} event field 'status' must not be 2xx")
    return _ALIASES.get(kind, kind), out


def stream_receive(stream: int, data: bytes, end_stream: bool) -> dict[str, Any]:
    """``webtransport.stream.receive``: ``data`` arrived on ``stream``; ``end_stream``
    is true on the stream's last event (FIN; ``data`` may then be empty)."""
    return {"type": STREAM_RECEIVE, "stream": stream, "data": data, "end_stream": end_stream}


def datagram_receive(data: bytes) -> dict[str, Any]:
    """``webtransport.datagram.receive``: one datagram."""
    return {"type": DATAGRAM_RECEIVE, "data": data}


def stream_opened(stream: int, unidirectional: bool) -> dict[str, Any]:
    """``webtransport.stream.opened``: the answer to ``webtransport.stream.open``."""
    return {"type": STREAM_OPENED, "stream": stream, "unidirectional": unidirectional}


def stream_code(kind: str, stream: int, code: int | None) -> dict[str, Any]:
    """``webtransport.stream.reset`` or ``webtransport.stream.stop_sending`` from the peer."""
    return {"type": kind, "stream": stream, "code": code}


def disconnect(code: int | None, reason: str) -> dict[str, Any]:
    """``webtransport.disconnect``: the session ended (``code`` ``None`` when the
    connection ended without a WebTransport or application close code)."""
    return {"type": DISCONNECT, "code": code, "reason": reason}
