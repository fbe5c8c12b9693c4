"""Hostile peers built on aioquic's low-level API (``QuicConnection``/``H3Connection``).

- :class:`RawPeer`: an HTTP/3 client that completes the QUIC handshake and then sends
  whatever the test wants: CONNECT requests with arbitrary headers, raw bytes on the
  CONNECT stream, thousands of WebTransport streams, with or without respecting the
  server's stream limit. Streams this side opens are read off the QUIC layer directly
  (aioquic's H3 layer would parse their echo as HTTP/3 frames).
- :class:`SilentInitial`: sends one client Initial and never says anything again; it
  only listens, so a test can see what the server sends back (its handshake, or a
  ``CONNECTION_CLOSE`` refusing the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncGenerator
from typing import Any

from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.buffer import encode_uint_var
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StreamDataReceived

WT_BIDI_SIGNAL = 0x41
H3_FRAME_DATA = 0x00
CONNECTION_REFUSED = 0x02


def client_configuration() -> QuicConfiguration:
    return QuicConfiguration(
        is_client=True,
        alpn_protocols=H3_ALPN,
        verify_mode=ssl.CERT_NONE,
        server_name="localhost",
        max_datagram_frame_size=65536,
    )


class RawPeer(QuicConnectionProtocol):
    """An aioquic HTTP/3 connection that records everything it receives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic, enable_webtransport=True)
        self.headers: dict[int, list[tuple[bytes, bytes]]] = {}
        self.raw: dict[int, bytearray] = {}  # streams this side opened for WebTransport
        self.raw_fin: set[int] = set()
        self.terminated: ConnectionTerminated | None = None
        self.changed = asyncio.Event()

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
        if isinstance(event, StreamDataReceived) and event.stream_id in self.raw:
            self.raw[event.stream_id].extend(event.data)
            if event.end_stream:
                self.raw_fin.add(event.stream_id)
        else:
            for h3_event in self.h3.handle_event(event):
                if isinstance(h3_event, HeadersReceived):
                    self.headers[h3_event.stream_id] = list(h3_event.headers)
        self.changed.set()

    async def until(self, predicate: Any, within: float) -> bool:
        """Wait (bounded) until ``predicate()`` or the connection ends."""
        deadline = time.monotonic() + within
        while not predicate() and self.terminated is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
        return bool(predicate())

    def request(self, headers: list[tuple[bytes, bytes]]) -> int:
        """Send a request's HEADERS on a new bidirectional stream (no FIN)."""
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, headers, end_stream=False)
        self.transmit()
        return stream_id

    async def status(self, stream_id: int, within: float) -> int | None:
        """The ``:status`` of the response on ``stream_id``, or None (no response)."""
        await self.until(lambda: stream_id in self.headers, within)
        for name, value in self.headers.get(stream_id, []):
            if name == b":status":
                return int(value)
        return None

    def send_raw(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        self._quic.send_stream_data(stream_id, data, end_stream=end)
        self.transmit()

    def open_wt_stream(self, session_id: int, payload: bytes) -> int:
        """Open a WebTransport bidirectional stream, send ``payload`` and FIN."""
        stream_id = self._quic.get_next_available_stream_id()
        self.raw[stream_id] = bytearray()
        header = encode_uint_var(WT_BIDI_SIGNAL) + encode_uint_var(session_id)
        self._quic.send_stream_data(stream_id, header + payload, end_stream=True)
        return stream_id

    def ignore_stream_limit(self) -> None:
        """Behave like a peer that ignores MAX_STREAMS (a protocol violation)."""
        self._quic._remote_max_streams_bidi = 1 << 40


def connect_headers(port: int, **overrides: bytes) -> list[tuple[bytes, bytes]]:
    """Extended CONNECT headers for a WebTransport session, with overrides."""
    fields = {
        b":method": b"CONNECT",
        b":protocol": b"webtransport",
        b":scheme": b"https",
        b":authority": f"127.0.0.1:{port}".encode(),
        b":path": b"/hostile",
        b"origin": b"https://hostile.example",
    }
    for name, value in overrides.items():
        fields[name.replace("_", "-").encode() if not name.startswith(":") else name.encode()] = (
            value
        )
    return list(fields.items())


@contextlib.asynccontextmanager
async def raw_peer(port: int) -> AsyncGenerator[RawPeer, None]:
    """A connected :class:`RawPeer` (QUIC handshake done, SETTINGS sent)."""
    async with connect(
        "127.0.0.1",
        port,
        configuration=client_configuration(),
        create_protocol=RawPeer,
        wait_connected=True,
    ) as peer:
        assert isinstance(peer, RawPeer)
        yield peer


def capsule(kind: int, payload: bytes) -> bytes:
    """A capsule (RFC 9297) wrapped in an HTTP/3 DATA frame."""
    body = encode_uint_var(kind) + encode_uint_var(len(payload)) + payload
    return encode_uint_var(H3_FRAME_DATA) + encode_uint_var(len(body)) + body


class SilentInitial:
    """One client Initial to ``port``, then silence; collects what the server sends."""

    def __init__(self, port: int) -> None:
        self.quic = QuicConnection(configuration=client_configuration())
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.received = 0
        self.terminated: ConnectionTerminated | None = None
        self.quic.connect(("127.0.0.1", port), now=time.time())
        first = self.quic.datagrams_to_send(now=time.time())
        # Only the first flight: the client Initial (with its padding).
        for data, addr in first:
            self.sock.sendto(data, addr)

    async def listen(self, within: float) -> None:
        """Receive (bounded) and feed the server's packets to the connection, without
        ever answering; stop early once the server closed the connection."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + within
        while self.terminated is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                data, addr = await asyncio.wait_for(
                    loop.sock_recvfrom(self.sock, 65536), min(remaining, 0.5)
                )
            except TimeoutError:
                continue
            self.received += 1
            self.quic.receive_datagram(data, addr, now=time.time())
            # aioquic reports ConnectionTerminated only after the draining period, which
            # needs timers this silent peer never runs; the close it received is here.
            close = getattr(self.quic, "_close_event", None)
            if isinstance(close, ConnectionTerminated):
                self.terminated = close

    @property
    def refused(self) -> bool:
        return self.terminated is not None and self.terminated.error_code == CONNECTION_REFUSED

    def close(self) -> None:
        self.sock.close()
