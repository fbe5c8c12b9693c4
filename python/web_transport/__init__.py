"""WebTransport for asyncio: a binding of the Rust crate web-transport-quinn.

Servers accept sessions from browsers (the W3C WebTransport API) and other HTTP/3
WebTransport peers; clients open sessions to them. See the README for a quick start and
``_web_transport.pyi`` for the full API reference.
"""

from web_transport import _exceptions
from web_transport._exceptions import *  # noqa: F403 (the exceptions: _exceptions.__all__)
from web_transport._web_transport import (
    Client,
    Datagrams,
    Operation,
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
    "Datagrams",
    "Operation",
    "RecvStream",
    "SendStream",
    "Server",
    "Session",
    "SessionRequest",
    "SessionStats",
    "TransportConfig",
    "__version__",
    "certificate_hash",
    "generate_self_signed",
]
__all__ += _exceptions.__all__
