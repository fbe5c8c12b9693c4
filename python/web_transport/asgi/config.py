"""The options of :func:`web_transport.asgi.serve`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LifespanMode = Literal["auto", "on", "off"]


@dataclass(frozen=True, slots=True)
class Config:
    """How :func:`web_transport.asgi.serve` runs an ASGI application.

    Attributes:
        lifespan: ``"auto"`` (default): run the ASGI lifespan protocol, and go on
            without it when the application raises before its first lifespan event
            (it does not support lifespan; uvicorn's rule). ``"on"``: such an
            application stops the server. ``"off"``: no lifespan.
        accept_timeout: Seconds the application may take, from ``webtransport.connect``,
            to send ``webtransport.accept``, ``webtransport.reject`` or
            ``webtransport.close``; then the CONNECT is answered 504 and the
            application task is cancelled (default 10; ``None``: no bound).
        receive_queue_size: Events queued per session for ``receive()`` (default 64).
            A full queue stops reading streams (QUIC flow control holds the peer back)
            and drops datagrams (counted in ``datagrams_dropped``).
        read_size: Most bytes of one ``webtransport.stream.receive`` event (default
            65,536). At most ``receive_queue_size * read_size`` bytes wait per session.
        root_path: ASGI ``root_path`` of every scope (default ``""``).
        close_timeout: Seconds to wait, after the application returned, for its
            session to finish closing (default 5).
    """

    lifespan: LifespanMode = "auto"
    accept_timeout: float | None = 10.0
    receive_queue_size: int = 64
    read_size: int = 65536
    root_path: str = ""
    close_timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.lifespan not in ("auto", "on", "off"):
            raise ValueError(f"lifespan must be 'auto', 'on' or 'off', not {self.lifespan!r}")
        if self.accept_timeout is not None and not self.accept_timeout > 0:
            raise ValueError("accept_timeout must be > 0 seconds or None")
        if self.receive_queue_size < 1:
            raise ValueError("receive_queue_size must be at least 1")
        if self.read_size < 1:
            raise ValueError("read_size must be at least 1")
        if not self.close_timeout > 0:
            raise ValueError("close_timeout must be > 0 seconds")
