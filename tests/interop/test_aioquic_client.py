"""aioquic WebTransport client (tests/interop/aioquic_peer.py) <-> our Server.

Proves that our Server interoperates with an independent HTTP/3 WebTransport stack
(aioquic's ``H3Connection(enable_webtransport=True)``, draft-02 SETTINGS): streams both
ways with exact bytes, 200 concurrent streams, datagrams and their maximum size, a
rejected CONNECT, close capsules both ways, RESET_STREAM / STOP_SENDING codes in the
WebTransport error space (draft-ietf-webtrans-http3 §9.5) both ways, subprotocols,
request headers, a CONNECT FIN without capsule, a capsule overtaken by
CONNECTION_CLOSE, and 51 sequential connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest
import web_transport as wt

from tests.interop import server_roles as roles
from tests.interop.aioquic_peer import (
    AioSession,
    ConnectRejected,
    PeerStream,
    aioquic_client_connection,
    encode_close_capsule,
    open_session,
)
from tests.interop.server_roles import bounded, pattern, running_server, together
from tests.support.peers import Cert, Served

pytestmark = pytest.mark.interop_peer("aioquic-client")

MANY_STREAMS = wt.TransportConfig(max_concurrent_bidi_streams=256)


@contextlib.asynccontextmanager
async def session_to(
    server: Served, path: str = "/interop", **kwargs: Any
) -> AsyncGenerator[AioSession, None]:
    port = server.port
    async with aioquic_client_connection(port) as protocol:
        yield await open_session(protocol, port, path, **kwargs)


async def finish(session: AioSession, code: int = 0, reason: str = "done") -> None:
    """Close with a capsule and wait until our Server has torn the session down."""
    session.close(code, reason)
    await session.wait_ended()


async def announce(session: AioSession) -> None:
    session.open_bi().write(b"ready", end=True)


@roles.BIDI_ECHO_SIZES
async def test_bidi_echo(cert: Cert, size: int) -> None:
    data = pattern(size)

    async def peer(server: Served) -> bytes:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(data, end=True)
            received = await stream.read_all(60)
            await finish(session)
            return received

    async with running_server(cert) as server:
        echoed, received = await together(roles.echo_bidi(server), peer(server))
    assert echoed == [data]
    assert received == data


@pytest.mark.interop("uni-to-peer")
async def test_uni_to_peer(cert: Cert) -> None:
    data = pattern(64 << 10)

    async def peer(server: Served) -> bytes:
        async with session_to(server) as session:
            await announce(session)
            stream = await session.accept_stream()
            assert stream.unidirectional
            received = await stream.read_all()
            await finish(session)
            return received

    async with running_server(cert) as server:
        _, received = await together(roles.send_uni(server, data), peer(server))
    assert received == data


@pytest.mark.interop("uni-from-peer")
async def test_uni_from_peer(cert: Cert) -> None:
    data = pattern(64 << 10)

    async def peer(server: Served) -> tuple[int, str]:
        async with session_to(server) as session:
            session.open_uni().write(data, end=True)
            return await session.wait_close_info()

    async with running_server(cert) as server:
        received, close = await together(roles.receive_uni(server), peer(server))
    assert received == data
    assert close == (0, "received")


@pytest.mark.interop("many-concurrent-bidi")
async def test_many_concurrent_bidi(cert: Cert) -> None:
    count = 200
    texts = [f"stream-{i}-".encode() + b"x" * (i % 50) for i in range(count)]

    async def peer(server: Served) -> list[bytes]:
        async with session_to(server) as session:
            streams = [session.open_bi() for _ in range(count)]
            for stream, text in zip(streams, texts, strict=True):
                stream.write(text, end=True)
            received = await asyncio.gather(*(s.read_all() for s in streams))
            await finish(session)
            return received

    async with running_server(cert, transport=MANY_STREAMS) as server:
        echoed, received = await together(roles.echo_bidi(server, streams=count), peer(server))
    assert received == texts
    assert sorted(echoed) == sorted(texts)


@pytest.mark.interop("server-initiated-bidi")
async def test_server_initiated_bidi(cert: Cert) -> None:
    async def peer(server: Served) -> tuple[bytes, tuple[int, str]]:
        async with session_to(server) as session:
            await announce(session)
            stream = await session.accept_stream()
            assert not stream.unidirectional
            text = await stream.read_all()
            stream.write(b"reply:" + text, end=True)
            return text, await session.wait_close_info()

    async with running_server(cert) as server:
        reply, (text, close) = await together(roles.server_bidi(server, b"question"), peer(server))
    assert text == b"question"
    assert reply == b"reply:question"
    assert close == (0, "answered")


@pytest.mark.interop("datagram-echo")
async def test_datagram_echo(cert: Cert) -> None:
    async def peer(server: Served) -> tuple[int, set[bytes]]:
        async with session_to(server) as session:
            sent, echoed = await roles.send_until_echoed(
                session.send_datagram, lambda: session.receive_datagram(0.05)
            )
            await finish(session)
            return sent, echoed

    async with running_server(cert) as server:
        seen, (sent, echoed) = await together(roles.datagram_echo(server), peer(server))
    assert len(echoed) >= 5
    assert echoed <= {f"dg-{i}".encode() for i in range(sent)}
    assert echoed <= set(seen)


@pytest.mark.interop("datagram-max-size")
async def test_datagram_max_size(cert: Cert) -> None:
    # aioquic exposes no maximum datagram size; it sends 1000-byte datagrams (its
    # packets are at most 1200 bytes), and receives whatever fits our maximum.
    size = 1000

    async def peer(server: Served) -> bytes:
        async with session_to(server) as session:
            got: bytes | None = None
            for _ in range(300):
                session.send_datagram(pattern(size))
                with contextlib.suppress(TimeoutError):
                    got = await session.receive_datagram(0.05)
                    break
            await finish(session)
            assert got is not None
            return got

    async with running_server(cert) as server:
        ours, got = await together(roles.datagram_max_size(server), peer(server))
    assert set(ours["sizes"]) == {size}
    assert ours["digests"] == {roles.sha256_hex(pattern(size))}
    assert len(got) in ours["sent"]
    assert got == pattern(len(got))


@pytest.mark.interop("session-rejected")
async def test_session_rejected(cert: Cert) -> None:
    async def peer(server: Served) -> int:
        with pytest.raises(ConnectRejected) as raised:
            async with session_to(server):
                pass
        return raised.value.status

    async with running_server(cert) as server:
        request, status = await together(roles.reject(server, 403), peer(server))
    assert status == 403
    assert request.url == roles.url_of(server)


@pytest.mark.interop("close-by-us")
async def test_close_by_us(cert: Cert) -> None:
    async def peer(server: Served) -> tuple[int, str]:
        async with session_to(server) as session:
            return await session.wait_close_info()

    async with running_server(cert) as server:
        _, close = await together(roles.close_by_us(server), peer(server))
    assert close == (roles.CLOSE_CODE, roles.CLOSE_REASON)


@pytest.mark.interop("close-by-peer")
async def test_close_by_peer(cert: Cert) -> None:
    async def peer(server: Served) -> bytes:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(b"hi", end=True)
            reply = await stream.read_all()
            await finish(session, roles.PEER_CLOSE_CODE, roles.PEER_CLOSE_REASON)
            return reply

    async with running_server(cert) as server:
        closed, reply = await together(roles.close_by_peer(server), peer(server))
    assert reply == b"hi"
    assert (closed.source, closed.code, closed.reason) == (
        "session",
        roles.PEER_CLOSE_CODE,
        roles.PEER_CLOSE_REASON,
    )


@pytest.mark.parametrize(
    ("role", "data", "end", "wait", "code"),
    [
        roles.case(
            "reset-by-us", roles.reset_by_us, b"go", True, PeerStream.wait_reset, roles.RESET_BY_US
        ),
        roles.case(
            "stop-sending-by-us",
            roles.stop_by_us,
            b"\0" * 1024,
            False,
            PeerStream.wait_stop,
            roles.STOP_BY_US,
        ),
    ],
)
async def test_stream_error_by_us(
    cert: Cert,
    role: Callable[[Served], Awaitable[None]],
    data: bytes,
    end: bool,
    wait: Callable[[PeerStream], Awaitable[int]],
    code: int,
) -> None:
    """We reset (stop) the peer's stream: it sees RESET_STREAM (STOP_SENDING) with our
    code."""

    async def peer(server: Served) -> int:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(data, end=end)
            seen = await wait(stream)
            await finish(session)
            return seen

    async with running_server(cert) as server:
        _, seen = await together(role(server), peer(server))
    assert seen == code


async def _reset_once_held(stream: PeerStream) -> None:
    """Write part of a message; once our Server answers "got", reset the stream."""
    stream.write(b"partial")
    assert await stream.read_at_least(3) == b"got"
    stream.reset(roles.RESET_BY_PEER)


async def _stop_once_read(stream: PeerStream) -> None:
    """Send a whole message; once our Server writes back, stop the stream."""
    stream.write(b"send", end=True)
    await stream.read_at_least(1)
    stream.stop(roles.STOP_BY_PEER)


@pytest.mark.parametrize(
    ("role", "act", "kind", "code"),
    [
        roles.case(
            "reset-by-peer", roles.reset_by_peer, _reset_once_held, "reset", roles.RESET_BY_PEER
        ),
        roles.case(
            "stop-sending-by-peer", roles.stop_by_peer, _stop_once_read, "stop", roles.STOP_BY_PEER
        ),
    ],
)
async def test_stream_error_by_peer(
    cert: Cert,
    role: Callable[[Served], Awaitable[wt.StreamClosedByPeer]],
    act: Callable[[PeerStream], Awaitable[None]],
    kind: str,
    code: int,
) -> None:
    """The peer resets (stops) a stream with ``code``: our read (write) raises it, and
    the session ends with our close "seen"."""

    async def peer(server: Served) -> tuple[int, str]:
        async with session_to(server) as session:
            await act(session.open_bi())
            return await session.wait_close_info()

    async with running_server(cert) as server:
        error, close = await together(role(server), peer(server))
    assert (error.kind, error.code) == (kind, code)
    assert close == (0, "seen")


@pytest.mark.interop("subprotocol")
async def test_subprotocol(cert: Cert) -> None:
    offered = ["chat.v2", "chat.v1"]

    async def peer(server: Served) -> str | None:
        async with session_to(server, protocols=offered) as session:
            chosen = session.protocol_header
            await session.wait_close_info()
            return chosen

    async with running_server(cert) as server:
        request, chosen = await together(roles.inspect_request(server), peer(server))
    assert request.protocols == offered
    assert chosen == "chat.v1"


@pytest.mark.interop("request-headers")
async def test_request_headers(cert: Cert) -> None:
    path = "/interop/headers?room=7&x=y"
    headers = {"origin": "https://aioquic.test", "x-interop": "yes"}

    async def peer(server: Served) -> None:
        async with session_to(server, path, headers=headers) as session:
            await session.wait_close_info()

    async with running_server(cert) as server:
        request, _ = await together(roles.inspect_request(server), peer(server))
    assert request.url == roles.url_of(server, path)
    assert request.headers["origin"] == "https://aioquic.test"
    assert request.headers["x-interop"] == "yes"
    assert request.remote_address[0] == "127.0.0.1"


@pytest.mark.interop("close-without-capsule")
async def test_close_without_capsule(cert: Cert) -> None:
    async def ours(server: Served) -> wt.SessionError:
        _, session = await roles.accept_session(server)
        with pytest.raises(wt.SessionError) as raised:
            await bounded(session.accept_bi())
        return raised.value

    async def peer(server: Served) -> None:
        async with session_to(server) as session:
            session.h3.send_data(session.session_id, b"", end_stream=True)
            session.transmit()
            await session.wait_ended()

    async with running_server(cert) as server:
        error, _ = await together(ours(server), peer(server))
    assert isinstance(error, wt.SessionClosedByPeer), repr(error)
    assert (error.source, error.code, error.reason) == ("session", 0, "")


@pytest.mark.interop("close-capsule-with-connection-close")
async def test_close_capsule_with_connection_close(cert: Cert) -> None:
    async def ours(server: Served) -> wt.SessionError | None:
        _, session = await roles.accept_session(server)
        await bounded(session.wait_closed())
        return session.close_reason

    async def peer(server: Served) -> None:
        async with session_to(server) as session:
            await asyncio.sleep(0.1)  # our side is established and waiting
            session.h3.send_data(session.session_id, encode_close_capsule(7, "seven"), True)
            session.quic.close(error_code=0x100)  # H3_NO_ERROR, in the same flight
            session.transmit()

    async with running_server(cert) as server:
        reason, _ = await together(ours(server), peer(server))
    assert isinstance(reason, wt.SessionClosedByPeer), repr(reason)
    assert (reason.source, reason.code, reason.reason) == ("session", 7, "seven")


@pytest.mark.interop("sequential-sessions")
async def test_sequential_sessions(cert: Cert) -> None:
    count = roles.SEQUENTIAL

    async def peer(server: Served) -> int:
        ok = 0
        for i in range(count):
            text = f"session-{i}".encode()
            async with session_to(server) as session:
                stream = session.open_bi()
                stream.write(text, end=True)
                ok += await stream.read_all() == text
                await finish(session, i, text.decode())
        return ok

    async with running_server(cert) as server:
        closes, ok = await together(roles.sequential(server, count), peer(server))
    assert ok == count
    assert closes == roles.exact_closes(count)
