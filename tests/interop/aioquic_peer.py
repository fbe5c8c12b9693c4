"""A small WebTransport peer (client and server) on aioquic's HTTP/3 layer, for interop tests.

aioquic's ``H3Connection(enable_webtransport=True)`` speaks WebTransport over HTTP/3 at
draft-02 level (SETTINGS_ENABLE_WEBTRANSPORT, 0x41/0x54 stream signals, HTTP datagrams)
but offers no session object: this module adds the little that the tests need on top of
it (a CONNECT request/response, per-stream buffers, the CLOSE_WEBTRANSPORT_SESSION capsule,
stream error code mapping) and nothing else, so that what is tested is the wire protocol.

Two deliberate workarounds of aioquic's H3 layer are documented where they are applied:
data arriving on a bidirectional WebTransport stream that *this* side opened is taken off
the QUIC layer directly (aioquic would otherwise parse it as HTTP/3 frames), and
RESET_STREAM / STOP_SENDING are read from the QUIC events (the H3 layer swallows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.asyncio.protocol import QuicStreamHandler
from aioquic.asyncio.server import QuicServer
from aioquic.buffer import Buffer, BufferReadError, encode_uint_var
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import (
    DatagramReceived,
    DataReceived,
    H3Event,
    HeadersReceived,
    WebTransportStreamDataReceived,
)
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import (
    ConnectionTerminated,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key,
    load_pem_private_key,
)

# draft-ietf-webtrans-http3 §9.5: WebTransport application error codes are carried in
# RESET_STREAM / STOP_SENDING as HTTP/3 error codes from this range, skipping the
# reserved "GREASE" code points (every 0x1f-th value).
WT_ERROR_FIRST = 0x52E4A40FA8DB
WT_ERROR_LAST = 0x52E5AC983162
CLOSE_WEBTRANSPORT_SESSION = 0x2843
DRAIN_WEBTRANSPORT_SESSION = 0x78AE
H3_FRAME_DATA = 0x0

MAX_DATAGRAM_FRAME_SIZE = 65536


def wt_to_http3_error(code: int) -> int:
    """Map a WebTransport stream error code (0..2**32-1) to its HTTP/3 error code."""
    return WT_ERROR_FIRST + code + code // 0x1E


def http3_to_wt_error(code: int) -> int | None:
    """Map an HTTP/3 error code back to the WebTransport code, ``None`` if out of range."""
    if not WT_ERROR_FIRST <= code <= WT_ERROR_LAST:
        return None
    shifted = code - WT_ERROR_FIRST
    if shifted % 0x1F == 0x1E:
        return None
    return shifted - shifted // 0x1F


def encode_close_capsule(code: int, reason: str) -> bytes:
    """A CLOSE_WEBTRANSPORT_SESSION capsule (draft-ietf-webtrans-http3 §5)."""
    payload = struct.pack("!I", code) + reason.encode()
    return encode_uint_var(CLOSE_WEBTRANSPORT_SESSION) + encode_uint_var(len(payload)) + payload


def sf_string_list(items: list[str]) -> str:
    """An RFC 8941 structured-field list of strings (``WT-Available-Protocols``)."""
    return ", ".join(sf_string(item) for item in items)


def sf_string(item: str) -> str:
    """An RFC 8941 structured-field string."""
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_sf_string_list(value: str) -> list[str]:
    """Parse an RFC 8941 list of plain strings (enough for subprotocol names)."""
    out: list[str] = []
    for raw in value.split(","):
        token = raw.strip()
        if len(token) >= 2 and token[0] == token[-1] == '"':
            out.append(token[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
    return out


async def wait_until(predicate: Callable[[], bool], event: asyncio.Event, within: float) -> None:
    """Wait at most ``within`` seconds until ``predicate()`` holds; re-check on ``event``."""
    deadline = time.monotonic() + within
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("condition not reached in time")
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(remaining, 0.5))


@dataclass
class PeerStream:
    """One WebTransport stream as seen by the aioquic peer."""

    session: AioSession
    stream_id: int
    received: bytearray = field(default_factory=bytearray)
    fin: bool = False
    reset_code: int | None = None  # WebTransport code of the peer's RESET_STREAM
    stop_code: int | None = None  # WebTransport code of the peer's STOP_SENDING
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def unidirectional(self) -> bool:
        return bool(self.stream_id & 0x2)

    def _notify(self) -> None:
        self.changed.set()

    def write(self, data: bytes, *, end: bool = False) -> None:
        self.session.quic.send_stream_data(self.stream_id, data, end_stream=end)
        self.session.transmit()

    def reset(self, code: int) -> None:
        """RESET_STREAM with WebTransport error ``code``."""
        self.session.quic.reset_stream(self.stream_id, wt_to_http3_error(code))
        self.session.transmit()

    def stop(self, code: int) -> None:
        """STOP_SENDING with WebTransport error ``code``."""
        self.session.quic.stop_stream(self.stream_id, wt_to_http3_error(code))
        self.session.transmit()

    async def read_all(self, within: float = 30.0) -> bytes:
        """Everything up to FIN; ``ConnectionResetError`` if the stream was reset."""
        await wait_until(lambda: self.fin or self.reset_code is not None, self.changed, within)
        if self.reset_code is not None:
            raise ConnectionResetError(f"stream reset with code {self.reset_code}")
        return bytes(self.received)

    async def read_at_least(self, n: int, within: float = 30.0) -> bytes:
        await wait_until(lambda: len(self.received) >= n or self.fin, self.changed, within)
        return bytes(self.received)

    async def wait_reset(self, within: float = 30.0) -> int:
        await wait_until(lambda: self.reset_code is not None, self.changed, within)
        assert self.reset_code is not None
        return self.reset_code

    async def wait_stop(self, within: float = 30.0) -> int:
        await wait_until(lambda: self.stop_code is not None, self.changed, within)
        assert self.stop_code is not None
        return self.stop_code


class AioSession:
    """A WebTransport session on one aioquic connection (its CONNECT stream ``session_id``)."""

    def __init__(self, protocol: H3Protocol, session_id: int) -> None:
        self.protocol = protocol
        self.session_id = session_id
        self.streams: dict[int, PeerStream] = {}
        self.incoming: asyncio.Queue[PeerStream] = asyncio.Queue()
        self.datagrams: asyncio.Queue[bytes] = asyncio.Queue()
        self.close_info: tuple[int, str] | None = None  # from the peer's capsule
        self.connect_stream_ended = False
        self.changed = asyncio.Event()
        self._capsule_buffer = b""
        self.protocol_header: str | None = None  # WT-Protocol of the response (client)

    @property
    def quic(self):
        return self.protocol._quic

    @property
    def h3(self) -> H3Connection:
        return self.protocol.h3

    def transmit(self) -> None:
        self.protocol.transmit()

    def _stream(self, stream_id: int, *, incoming: bool) -> PeerStream:
        stream = self.streams.get(stream_id)
        if stream is None:
            stream = PeerStream(self, stream_id)
            self.streams[stream_id] = stream
            if incoming:
                self.incoming.put_nowait(stream)
        return stream

    def open_bi(self) -> PeerStream:
        stream_id = self.h3.create_webtransport_stream(self.session_id, is_unidirectional=False)
        self.protocol.local_bidi[stream_id] = self
        self.transmit()
        return self._stream(stream_id, incoming=False)

    def open_uni(self) -> PeerStream:
        stream_id = self.h3.create_webtransport_stream(self.session_id, is_unidirectional=True)
        self.transmit()
        return self._stream(stream_id, incoming=False)

    async def accept_stream(self, within: float = 30.0) -> PeerStream:
        return await asyncio.wait_for(self.incoming.get(), within)

    def send_datagram(self, data: bytes) -> None:
        self.h3.send_datagram(self.session_id, data)
        self.transmit()

    async def receive_datagram(self, within: float = 30.0) -> bytes:
        return await asyncio.wait_for(self.datagrams.get(), within)

    def close(self, code: int, reason: str) -> None:
        """Send CLOSE_WEBTRANSPORT_SESSION in a DATA frame and FIN the CONNECT stream."""
        self.h3.send_data(self.session_id, encode_close_capsule(code, reason), end_stream=True)
        self.transmit()

    async def wait_close_info(self, within: float = 30.0) -> tuple[int, str]:
        await wait_until(lambda: self.close_info is not None, self.changed, within)
        assert self.close_info is not None
        return self.close_info

    async def wait_ended(self, within: float = 30.0) -> None:
        """Until the CONNECT stream ended or the connection terminated."""
        await wait_until(
            lambda: self.connect_stream_ended or self.protocol.terminated is not None,
            self.changed,
            within,
        )

    def _connect_stream_data(self, data: bytes, ended: bool) -> None:
        self._capsule_buffer += data
        while self._capsule_buffer:
            buf = Buffer(data=self._capsule_buffer)
            try:
                capsule_type = buf.pull_uint_var()
                length = buf.pull_uint_var()
                payload = buf.pull_bytes(length)
            except BufferReadError:
                break
            self._capsule_buffer = self._capsule_buffer[buf.tell() :]
            if capsule_type == CLOSE_WEBTRANSPORT_SESSION and len(payload) >= 4:
                (code,) = struct.unpack("!I", payload[:4])
                self.close_info = (code, payload[4:].decode(errors="replace"))
        if ended:
            self.connect_stream_ended = True
        self.changed.set()

    def _wake_all(self) -> None:
        self.changed.set()
        for stream in self.streams.values():
            stream._notify()


@dataclass
class ServerRequest:
    """An extended CONNECT request received by the aioquic server."""

    protocol: H3Protocol
    stream_id: int
    headers: dict[str, str]

    @property
    def offered_protocols(self) -> list[str]:
        return parse_sf_string_list(self.headers.get("wt-available-protocols", ""))

    def accept(self, *, protocol: str | None = None) -> AioSession:
        headers = [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")]
        if protocol is not None:
            headers.append((b"wt-protocol", sf_string(protocol).encode()))
        session = AioSession(self.protocol, self.stream_id)
        self.protocol.sessions[self.stream_id] = session
        self.protocol.h3.send_headers(self.stream_id, headers)
        self.protocol.transmit()
        return session

    def reject(self, status: int) -> None:
        self.protocol.h3.send_headers(
            self.stream_id, [(b":status", str(status).encode())], end_stream=True
        )
        self.protocol.transmit()


class H3Protocol(QuicConnectionProtocol):
    """Feeds QUIC events to an ``H3Connection(enable_webtransport=True)`` and routes the
    resulting HTTP/3 events to :class:`AioSession` objects."""

    def __init__(
        self,
        quic: QuicConnection,
        stream_handler: QuicStreamHandler | None = None,
        *,
        requests: asyncio.Queue[ServerRequest] | None = None,
    ) -> None:
        super().__init__(quic, stream_handler)
        self.h3 = H3Connection(self._quic, enable_webtransport=True)
        self.sessions: dict[int, AioSession] = {}
        self.local_bidi: dict[int, AioSession] = {}
        self.requests = requests
        self.responses: dict[int, asyncio.Future[dict[str, str]]] = {}
        self.terminated: ConnectionTerminated | None = None
        self.critical_stop_sending: list[int] = []

    def _stream_owner(self, stream_id: int) -> PeerStream | None:
        for session in self.sessions.values():
            if stream_id in session.streams:
                return session.streams[stream_id]
        return None

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, StreamDataReceived) and event.stream_id in self.local_bidi:
            # aioquic's H3 layer would parse the peer's answer on a bidirectional
            # WebTransport stream that we opened as HTTP/3 frames: take it raw.
            session = self.local_bidi[event.stream_id]
            stream = session._stream(event.stream_id, incoming=False)
            stream.received += event.data
            stream.fin = stream.fin or event.end_stream
            stream._notify()
            return
        if isinstance(event, StreamReset):
            stream = self._stream_owner(event.stream_id)
            if stream is not None:
                stream.reset_code = http3_to_wt_error(event.error_code)
                if stream.reset_code is None:
                    stream.reset_code = -1
                stream._notify()
            if event.stream_id in self.local_bidi:
                return
        if isinstance(event, StopSendingReceived) and event.stream_id in (
            self.h3._local_control_stream_id,
            self.h3._local_encoder_stream_id,
            self.h3._local_decoder_stream_id,
        ):
            # RFC 9114 §6.2.1 forbids STOP_SENDING on these critical streams and aioquic
            # would close the connection (H3_CLOSED_CRITICAL_STREAM). Our Server sends it
            # when it drops a rejected connection (see docs/interop.md); record it and go
            # on, so that the 403 racing it is still seen.
            self.critical_stop_sending.append(event.stream_id)
            return
        if isinstance(event, StopSendingReceived):
            stream = self._stream_owner(event.stream_id)
            if stream is not None:
                code = http3_to_wt_error(event.error_code)
                stream.stop_code = -1 if code is None else code
                stream._notify()
            if event.stream_id in self.local_bidi:
                return
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for session in self.sessions.values():
                session._wake_all()
            for future in self.responses.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"connection terminated: {event}"))
        for h3_event in self.h3.handle_event(event):
            self._h3_event(h3_event)

    def _h3_event(self, event: H3Event) -> None:
        if isinstance(event, HeadersReceived):
            headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            future = self.responses.get(event.stream_id)
            if future is not None:
                if not future.done():
                    future.set_result(headers)
            elif self.requests is not None:
                self.requests.put_nowait(ServerRequest(self, event.stream_id, headers))
        elif isinstance(event, DataReceived):
            session = self.sessions.get(event.stream_id)
            if session is not None:
                session._connect_stream_data(event.data, event.stream_ended)
        elif isinstance(event, WebTransportStreamDataReceived):
            session = self.sessions.get(event.session_id)
            if session is None:
                return
            stream = session._stream(event.stream_id, incoming=True)
            stream.received += event.data
            stream.fin = stream.fin or event.stream_ended
            stream._notify()
        elif isinstance(event, DatagramReceived):
            session = self.sessions.get(event.stream_id)
            if session is not None:
                session.datagrams.put_nowait(event.data)


def quic_configuration(*, is_client: bool) -> QuicConfiguration:
    return QuicConfiguration(
        is_client=is_client,
        alpn_protocols=H3_ALPN,
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        idle_timeout=30.0,
    )


class ConnectRejected(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"CONNECT answered with status {status}")
        self.status = status


@contextlib.asynccontextmanager
async def aioquic_client_connection(port: int) -> AsyncGenerator[H3Protocol, None]:
    """An aioquic HTTP/3 connection to ``127.0.0.1:port`` (certificate not verified:
    aioquic has no certificate-hash pinning; the pinning interop is tested with browsers
    and with our Client)."""
    import ssl

    configuration = quic_configuration(is_client=True)
    configuration.verify_mode = ssl.CERT_NONE
    configuration.server_name = "localhost"
    async with connect(
        "127.0.0.1", port, configuration=configuration, create_protocol=H3Protocol
    ) as protocol:
        assert isinstance(protocol, H3Protocol)
        yield protocol


async def open_session(
    protocol: H3Protocol,
    port: int,
    path: str = "/",
    *,
    protocols: list[str] | None = None,
    headers: dict[str, str] | None = None,
    within: float = 30.0,
) -> AioSession:
    """Send the extended CONNECT (draft-ietf-webtrans-http3 §3.2) and wait for 2xx."""
    stream_id = protocol._quic.get_next_available_stream_id()
    request = [
        (b":method", b"CONNECT"),
        (b":scheme", b"https"),
        (b":authority", f"127.0.0.1:{port}".encode()),
        (b":path", path.encode()),
        (b":protocol", b"webtransport"),
        (b"sec-webtransport-http3-draft02", b"1"),
    ]
    if protocols:
        request.append((b"wt-available-protocols", sf_string_list(protocols).encode()))
    for name, value in (headers or {}).items():
        request.append((name.lower().encode(), value.encode()))
    future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    protocol.responses[stream_id] = future
    session = AioSession(protocol, stream_id)
    protocol.sessions[stream_id] = session
    protocol.h3.send_headers(stream_id, request, end_stream=False)
    protocol.transmit()
    response = await asyncio.wait_for(future, within)
    status = int(response.get(":status", "0"))
    if not 200 <= status < 300:
        raise ConnectRejected(status)
    wt_protocol = response.get("wt-protocol")
    session.protocol_header = parse_sf_string_list(wt_protocol)[0] if wt_protocol else None
    return session


class AioServer:
    """An aioquic WebTransport server on 127.0.0.1; requests arrive on :attr:`requests`."""

    def __init__(self, server: QuicServer, requests: asyncio.Queue[ServerRequest]) -> None:
        self._server = server
        self.requests = requests

    @property
    def port(self) -> int:
        transport = self._server._transport
        assert transport is not None
        return transport.get_extra_info("sockname")[1]

    async def next_request(self, within: float = 30.0) -> ServerRequest:
        return await asyncio.wait_for(self.requests.get(), within)

    def close(self) -> None:
        self._server.close()


@contextlib.asynccontextmanager
async def aioquic_server(cert_der: bytes, key_der: bytes) -> AsyncGenerator[AioServer, None]:
    """Run an aioquic HTTP/3 server with WebTransport enabled on ``127.0.0.1:0``
    (certificate and key as DER or PEM)."""
    configuration = quic_configuration(is_client=False)
    if cert_der.lstrip().startswith(b"-----BEGIN"):
        configuration.certificate = x509.load_pem_x509_certificate(cert_der)
        configuration.private_key = load_pem_private_key(key_der, password=None)  # type: ignore[assignment]
    else:
        configuration.certificate = x509.load_der_x509_certificate(cert_der)
        configuration.private_key = load_der_private_key(key_der, password=None)  # type: ignore[assignment]
    requests: asyncio.Queue[ServerRequest] = asyncio.Queue()
    server = await serve(
        "127.0.0.1",
        0,
        configuration=configuration,
        create_protocol=functools.partial(H3Protocol, requests=requests),
    )
    wrapper = AioServer(server, requests)
    try:
        yield wrapper
    finally:
        wrapper.close()
