"""WebTransport for asyncio: a binding of the Rust crate web-transport-quinn.

Servers accept sessions from browsers (the W3C WebTransport API) and other HTTP/3
WebTransport peers; clients open sessions to them. See the README for a quick start and
``_web_transport.pyi`` for the full API reference.
"""

from web_transport._exceptions import (
    ConnectError,
    DatagramError,
    DatagramNotSupportedError,
    DatagramTooLargeError,
    ProtocolError,
    SessionClosed,
    SessionClosedByPeer,
    SessionClosedLocally,
    SessionError,
    SessionRejected,
    SessionTimeout,
    StreamClosed,
    StreamClosedByPeer,
    StreamClosedLocally,
    StreamError,
    StreamIncompleteReadError,
    StreamTooLongError,
    WebTransportError,
)
from web_transport._web_transport import (
    Client,
    Datagrams,
    RecvStream,
    SendStream,
    Server,
    Session,
    SessionRequest,
    SessionStats,
    TransportConfig,
    __version__,
    certificate_hash,
    generate_self_signed,
)

__all__ = [
    "Client",
    "ConnectError",
    "DatagramError",
    "DatagramNotSupportedError",
    "DatagramTooLargeError",
    "Datagrams",
    "ProtocolError",
    "RecvStream",
    "SendStream",
    "Server",
    "Session",
    "SessionClosed",
    "SessionClosedByPeer",
    "SessionClosedLocally",
    "SessionError",
    "SessionRejected",
    "SessionRequest",
    "SessionStats",
    "SessionTimeout",
    "StreamClosed",
    "StreamClosedByPeer",
    "StreamClosedLocally",
    "StreamError",
    "StreamIncompleteReadError",
    "StreamTooLongError",
    "TransportConfig",
    "WebTransportError",
    "__version__",
    "certificate_hash",
    "generate_self_signed",
]
