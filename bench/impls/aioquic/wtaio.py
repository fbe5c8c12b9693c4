"""WebTransport over aioquic's H3Connection (aioquic has no WebTransport session API).

A minimal client and server on ``aioquic.asyncio``: the extended CONNECT handshake,
bidirectional WebTransport streams and HTTP/3 datagrams, enough for the workloads in
``bench/impls/common.py``. aioquic does not mark a client-opened WebTransport stream as
such, so the client sets the stream's frame type itself (otherwise the server's reply
would be parsed as HTTP/3 frames).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Callable
from typing import Any

import common
from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, FrameType, H3Connection
from aioquic.h3.events import (
    DatagramReceived,
    H3Event,
    HeadersReceived,
    WebTransportStreamDataReceived,
)
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ProtocolNegotiated, QuicEvent

SEND_BUFFER = 4 << 20
"""Bytes a sender lets aioquic buffer on a stream before waiting (crude backpressure)."""


class WTProtocol(QuicConnectionProtocol):
    """Common part: an H3Connection with WebTransport enabled, fed every QUIC event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http: H3Connection | None = None

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ProtocolNegotiated):
            self.http = H3Connection(self._quic, enable_webtransport=True)
        if self.http is not None:
            for h3_event in self.http.handle_event(event):
                self.h3_event_received(h3_event)

    def h3_event_received(self, event: H3Event) -> None:
        raise NotImplementedError

    def buffered(self, stream_id: int) -> int:
        stream = self._quic._streams.get(stream_id)
        return len(stream.sender._buffer) if stream is not None else 0


# ---------------------------------------------------------------------------------------
# Server


class ServerProtocol(WTProtocol):
    mode = "echo"
    counters: dict[str, int] = {"datagrams": 0}  # noqa: RUF012 (shared by all connections)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streams: dict[int, Any] = {}

    def h3_event_received(self, event: H3Event) -> None:
        http = self.http
        assert http is not None
        if isinstance(event, HeadersReceived):
            headers = dict(event.headers)
            if headers.get(b":method") == b"CONNECT" and headers.get(b":protocol") == (
                b"webtransport"
            ):
                http.send_headers(
                    event.stream_id,
                    [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")],
                )
            else:
                http.send_headers(event.stream_id, [(b":status", b"400")], end_stream=True)
            self.transmit()
        elif isinstance(event, DatagramReceived):
            self.counters["datagrams"] += 1
        elif isinstance(event, WebTransportStreamDataReceived):
            self.stream_data(event)

    def stream_data(self, event: WebTransportStreamDataReceived) -> None:
        sid = event.stream_id
        if self.mode == "sink":
            self.streams[sid] = self.streams.get(sid, 0) + len(event.data)
            if event.stream_ended:
                total = self.streams.pop(sid)
                self._quic.send_stream_data(sid, total.to_bytes(8, "big"), end_stream=True)
                self.transmit()
        elif self.mode == "echo":
            buf = self.streams.setdefault(sid, bytearray())
            buf += event.data
            if event.stream_ended:
                self._quic.send_stream_data(sid, bytes(self.streams.pop(sid)), end_stream=True)
                self.transmit()
        elif event.stream_ended:
            asyncio.get_running_loop().call_later(0.2, self.reply_count, sid)

    def reply_count(self, sid: int) -> None:
        reply = json.dumps({"received": self.counters["datagrams"]}).encode()
        self._quic.send_stream_data(sid, reply, end_stream=True)
        self.transmit()


async def run_server(args: Any) -> None:
    config = QuicConfiguration(
        alpn_protocols=H3_ALPN, is_client=False, max_datagram_frame_size=65536
    )
    config.load_cert_chain(args.cert, args.key)
    ServerProtocol.mode = common.mode(args.workload)
    server = await serve(
        "127.0.0.1", args.port, configuration=config, create_protocol=ServerProtocol
    )
    common.ready(args.port)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()


# ---------------------------------------------------------------------------------------
# Client


class ClientProtocol(WTProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_id = -1
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.replies: dict[int, tuple[bytearray, asyncio.Future[bytes]]] = {}
        self.on_drain: Callable[[], None] | None = None

    def h3_event_received(self, event: H3Event) -> None:
        if isinstance(event, HeadersReceived) and event.stream_id == self.session_id:
            status = dict(event.headers).get(b":status")
            if not self.connected.done():
                self.connected.set_result(status == b"200")
        elif isinstance(event, WebTransportStreamDataReceived):
            entry = self.replies.get(event.stream_id)
            if entry is not None:
                entry[0].extend(event.data)
                if event.stream_ended and not entry[1].done():
                    entry[1].set_result(bytes(entry[0]))
                    del self.replies[event.stream_id]

    async def open_session(self, authority: str) -> None:
        http = self.http
        assert http is not None
        self.session_id = self._quic.get_next_available_stream_id()
        http.send_headers(
            self.session_id,
            [
                (b":method", b"CONNECT"),
                (b":scheme", b"https"),
                (b":authority", authority.encode()),
                (b":path", b"/bench"),
                (b":protocol", b"webtransport"),
            ],
        )
        self.transmit()
        if not await self.connected:
            raise RuntimeError("session rejected")

    def open_bi(self) -> tuple[int, asyncio.Future[bytes]]:
        http = self.http
        assert http is not None
        sid = http.create_webtransport_stream(self.session_id, is_unidirectional=False)
        with http._get_or_create_stream(sid) as stream:
            stream.frame_type = FrameType.WEBTRANSPORT_STREAM
            stream.session_id = self.session_id
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.replies[sid] = (bytearray(), fut)
        return sid, fut

    async def write(self, sid: int, data: bytes, end: bool = False) -> None:
        self._quic.send_stream_data(sid, data, end_stream=end)
        self.transmit()
        while self.buffered(sid) > SEND_BUFFER:  # noqa: ASYNC110 (aioquic has no drain event)
            await asyncio.sleep(0.0005)

    async def request(self, data: bytes) -> bytes:
        sid, fut = self.open_bi()
        await self.write(sid, data, end=True)
        return await fut

    async def sink(self, buf: bytes, size: int) -> int:
        sid, fut = self.open_bi()
        left = size
        while left > 0:
            n = min(left, len(buf))
            left -= n
            await self.write(sid, buf if n == len(buf) else buf[:n], end=left == 0)
        return int.from_bytes(await fut, "big")


class Connection:
    """``aioquic.asyncio.connect`` without its wait for the draining period on close.

    (aioquic's context manager waits 3 PTOs after CONNECTION_CLOSE; the other
    implementations return from close at once, so W4 would measure aioquic's timer.)
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.transport: Any = None

    async def __aenter__(self) -> ClientProtocol:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        connection = QuicConnection(configuration=client_config())
        self.transport, proto = await loop.create_datagram_endpoint(
            lambda: ClientProtocol(connection), sock=sock
        )
        self.proto = proto
        proto.connect(("127.0.0.1", self.port), transmit=True)
        await proto.wait_connected()
        return proto

    async def __aexit__(self, *exc: object) -> None:
        self.proto.close()
        self.transport.close()


def client_config() -> QuicConfiguration:
    return QuicConfiguration(
        alpn_protocols=H3_ALPN,
        is_client=True,
        verify_mode=ssl.CERT_NONE,
        max_datagram_frame_size=65536,
        server_name="localhost",
    )


async def run_client(args: Any) -> dict[str, Any]:
    w = args.workload
    authority = f"127.0.0.1:{args.port}"

    def session() -> Connection:
        return Connection(args.port)

    if w in ("W1", "W2", "W3", "W5"):
        async with session() as proto:
            assert isinstance(proto, ClientProtocol)
            await proto.open_session(authority)
            if w == "W1":
                d = common.Deadline(0, 0)
                got = await proto.sink(bytes(common.WRITE_SIZE), args.size)
                dt = d.elapsed()
                if got != args.size:
                    raise RuntimeError(f"server counted {got} bytes")
                return {"value": got / dt / 2**20, "unit": "MiB/s", "bytes": got, "seconds": dt}
            if w == "W2":
                msg = b"B" * args.payload
                d = common.Deadline(args.duration, args.count)
                n = 0
                while d.more(n):
                    if len(await proto.request(msg)) != len(msg):
                        raise RuntimeError("bad echo")
                    n += 1
                return common.rate("count", "round trips/s", n, d.elapsed())
            if w == "W3":
                http = proto.http
                assert http is not None
                msg = b"D" * args.payload
                d = common.Deadline(args.duration, args.count)
                sent = 0
                while d.more(sent):
                    http.send_datagram(proto.session_id, msg)
                    sent += 1
                    if sent % 16 == 0:
                        proto.transmit()
                        # aioquic queues datagrams without bound: wait for the queue.
                        while len(proto._quic._datagrams_pending) > 64:  # noqa: ASYNC110
                            await asyncio.sleep(0)
                proto.transmit()
                dt = d.elapsed()
                reply = json.loads(await proto.request(b"count"))
                received = reply["received"]
                out = common.rate("received", "datagrams/s", received, dt, sent=sent)
                out["loss"] = 1 - received / max(sent, 1)
                return out
            # W5
            buf = bytes(args.size)
            d = common.Deadline(0, 0)
            got = await asyncio.gather(*(proto.sink(buf, args.size) for _ in range(args.streams)))
            dt = d.elapsed()
            return common.streams_rate(got, args.size, dt)
    if w == "W4":
        d = common.Deadline(args.duration, args.count)
        n = 0
        while d.more(n):
            async with session() as proto:
                assert isinstance(proto, ClientProtocol)
                await proto.open_session(authority)
                if await proto.request(b"x") != b"x":
                    raise RuntimeError("bad echo")
            n += 1
        return common.rate("count", "sessions/s", n, d.elapsed())
    if w == "W6":
        gate = asyncio.Semaphore(args.concurrency)

        async def one() -> Any:
            async with gate:
                cm = session()
                proto = await cm.__aenter__()
                await proto.open_session(authority)
                return cm

        d = common.Deadline(0, 0)
        cms = await asyncio.gather(*(one() for _ in range(args.sessions)))
        dt = d.elapsed()
        await common.holding(len(cms), args.hold)
        for cm in cms:
            await cm.__aexit__(None, None, None)
        return {"value": len(cms), "unit": "sessions", "connect_seconds": dt}
    raise ValueError(f"unknown workload {w}")
