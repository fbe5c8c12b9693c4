"""The exception hierarchy of :mod:`web_transport`.

Every error the package raises for a network, protocol or state condition is a
:class:`WebTransportError`; invalid arguments raise :class:`ValueError` or
:class:`TypeError` naming the argument, and socket-level failures (for example
binding an address already in use) raise :class:`OSError`.

::

    WebTransportError
    ├── SessionError                      session-level failures
    │   ├── ConnectError                  the session could not be established
    │   │   └── SessionRejected           the server answered CONNECT with a non-2xx status
    │   ├── SessionClosed                 the session is closed
    │   │   ├── SessionClosedByPeer       .source, .code, .reason
    │   │   └── SessionClosedLocally      closed by this side (Session.close)
    │   ├── SessionTimeout                the QUIC idle timeout fired (RFC 9000 §10.1)
    │   └── ProtocolError                 QUIC / HTTP/3 / WebTransport protocol violation
    ├── StreamError                       stream-level failures
    │   ├── StreamClosed                  the stream is closed
    │   │   ├── StreamClosedByPeer        .kind ("reset" | "stop"), .code
    │   │   └── StreamClosedLocally       finished, reset or stopped by this side
    │   ├── StreamTooLongError            .limit: read(-1, limit=...) exceeded
    │   └── StreamIncompleteReadError     .expected, .partial: EOF before readexactly(n)
    └── DatagramError                     datagram failures
        ├── DatagramTooLargeError         payload larger than Session.max_datagram_size
        └── DatagramNotSupportedError     .reason: datagrams unavailable on this session

The class names and attributes match PyPI ``web-transport-quinn`` 0.1.0 so that code
written for it runs unchanged; :class:`SessionRejected` is new (a subclass of
:class:`ConnectError`, so existing handlers still catch it).
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ConnectError",
    "DatagramError",
    "DatagramNotSupportedError",
    "DatagramTooLargeError",
    "ProtocolError",
    "SessionClosed",
    "SessionClosedByPeer",
    "SessionClosedLocally",
    "SessionError",
    "SessionRejected",
    "SessionTimeout",
    "StreamClosed",
    "StreamClosedByPeer",
    "StreamClosedLocally",
    "StreamError",
    "StreamIncompleteReadError",
    "StreamTooLongError",
    "WebTransportError",
]

PeerCloseSource = Literal["session", "application", "transport", "connection-reset"]


class WebTransportError(Exception):
    """Base class of every WebTransport error raised by this package."""


# -- Session errors ---------------------------------------------------------------------


class SessionError(WebTransportError):
    """Base class of session-level errors."""


class ConnectError(SessionError):
    """The session could not be established.

    Raised by :meth:`Client.connect` when the QUIC handshake fails (unreachable server,
    certificate not trusted or not matching a pinned hash, handshake timeout), when the
    peer does not support WebTransport (HTTP/3 SETTINGS, RFC 9114 §7.2.4 and
    draft-ietf-webtrans-http3 §3.1), or when the extended CONNECT fails.
    """


class SessionRejected(ConnectError):
    """The server answered the extended CONNECT request with a non-2xx status.

    Attributes:
        status_code: The HTTP status code the server sent (for example ``404``).
    """

    status_code: int

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class SessionClosed(SessionError):
    """The session is closed. Catch this to handle both ways of closing alike."""


class SessionClosedByPeer(SessionClosed):
    """The peer closed the session.

    Attributes:
        source: How the session was closed:

            - ``"session"``: the peer sent a ``CLOSE_WEBTRANSPORT_SESSION`` capsule
              (draft-ietf-webtrans-http3 §5); ``code`` and ``reason`` are the peer's.
            - ``"application"``: the peer's QUIC stack sent ``CONNECTION_CLOSE`` with an
              application error code (RFC 9000 §19.19); ``code`` is that code (mapped
              back from the HTTP/3 error space when it is a WebTransport code).
            - ``"transport"``: the peer closed the connection with a transport error
              (RFC 9000 §20.1); ``code`` is ``None``.
            - ``"connection-reset"``: the peer sent a stateless reset (RFC 9000 §10.3),
              typically because it restarted and lost the connection state.
        code: The close code, or ``None`` for transport closes and resets.
        reason: The close reason (``""`` when none was given).
    """

    source: PeerCloseSource
    code: int | None
    reason: str

    def __init__(
        self,
        message: str,
        *,
        source: PeerCloseSource,
        code: int | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.source = source
        self.code = code
        self.reason = reason


class SessionClosedLocally(SessionClosed):
    """The session was closed by this side (:meth:`Session.close`, or the owning
    :class:`Client`/:class:`Server` was closed)."""


class SessionTimeout(SessionError):
    """The QUIC idle timeout fired: nothing was heard from the peer for
    ``max_idle_timeout`` seconds (RFC 9000 §10.1)."""


class ProtocolError(SessionError):
    """The peer (or this side) violated QUIC, HTTP/3 or WebTransport: for example a
    stream reset with a code outside the WebTransport range, or a malformed frame."""


# -- Stream errors ----------------------------------------------------------------------


class StreamError(WebTransportError):
    """Base class of stream-level errors."""


class StreamClosed(StreamError):
    """The stream is closed, by either side."""


class StreamClosedByPeer(StreamClosed):
    """The peer closed this stream abruptly.

    Attributes:
        kind: ``"reset"`` when the peer sent ``RESET_STREAM`` (seen by a reader),
            ``"stop"`` when the peer sent ``STOP_SENDING`` (seen by a writer);
            RFC 9000 §19.4 and §19.5.
        code: The WebTransport application error code (0 to 2**32 - 1), decoded from
            the HTTP/3 error space (draft-ietf-webtrans-http3 §4.4).
    """

    kind: Literal["reset", "stop"]
    code: int

    def __init__(self, message: str, *, kind: Literal["reset", "stop"], code: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class StreamClosedLocally(StreamClosed):
    """The stream was already finished, reset or stopped by this side, or was reset or
    stopped while the operation was pending."""


class StreamTooLongError(StreamError):
    """``RecvStream.read(-1, limit=...)`` received more than ``limit`` bytes.

    The bytes already read stay buffered in the stream; nothing is lost.

    Attributes:
        limit: The byte limit that was exceeded.
    """

    limit: int

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class StreamIncompleteReadError(StreamError):
    """The stream ended before ``RecvStream.readexactly(n)`` got ``n`` bytes.

    Attributes:
        expected: The number of bytes requested.
        partial: The bytes received before the end of the stream.
    """

    expected: int
    partial: bytes

    def __init__(self, message: str, *, expected: int, partial: bytes) -> None:
        super().__init__(message)
        self.expected = expected
        self.partial = partial


# -- Datagram errors --------------------------------------------------------------------


class DatagramError(WebTransportError):
    """Base class of datagram errors."""


class DatagramTooLargeError(DatagramError):
    """The datagram is larger than :attr:`Session.max_datagram_size` (RFC 9221 §5)."""


class DatagramNotSupportedError(DatagramError):
    """Datagrams cannot be sent on this session.

    Attributes:
        reason: ``"unsupported_by_peer"`` when the peer did not advertise
            ``max_datagram_frame_size`` (RFC 9221 §3), ``"disabled_locally"`` when this
            side disabled datagrams.
    """

    reason: Literal["unsupported_by_peer", "disabled_locally"]

    def __init__(
        self, message: str, *, reason: Literal["unsupported_by_peer", "disabled_locally"]
    ) -> None:
        super().__init__(message)
        self.reason = reason
