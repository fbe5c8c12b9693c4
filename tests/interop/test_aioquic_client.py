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
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import server_roles as roles
import web_transport as wt
from aioquic_peer import (
    AioSession,
    ConnectRejected,
    aioquic_client_connection,
    encode_close_capsule,
    open_session,
)
from interop_state import Cert
from server_roles import bounded, pattern, running_server, together

pytestmark = pytest.mark.interop_peer("aioquic-client")

MANY_STREAMS = wt.TransportConfig(max_concurrent_bidi_streams=256)


@contextlib.asynccontextmanager
async def session_to(
    server: wt.Server, path: str = "/interop", **kwargs: Any
) -> AsyncGenerator[AioSession, None]:
    port = server.local_addr[1]
    async with aioquic_client_connection(port) as protocol:
        yield await open_session(protocol, port, path, **kwargs)


async def finish(session: AioSession, code: int = 0, reason: str = "done") -> None:
    """Close with a capsule and wait until our Server has torn the session down."""
    session.close(code, reason)
    await session.wait_ended()


async def announce(session: AioSession) -> None:
    session.open_bi().write(b"ready", end=True)


@pytest.mark.interop("bidi-echo-small")
async def test_bidi_echo_small(cert: Cert) -> None:
    await _bidi_echo(cert, 1024)


@pytest.mark.interop("bidi-echo-8mib")
async def test_bidi_echo_8mib(cert: Cert) -> None:
    await _bidi_echo(cert, 8 << 20)


async def _bidi_echo(cert: Cert, size: int) -> None:
    data = pattern(size)

    async def peer(server: wt.Server) -> bytes:
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

    async def peer(server: wt.Server) -> bytes:
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

    async def peer(server: wt.Server) -> tuple[int, str]:
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

    async def peer(server: wt.Server) -> list[bytes]:
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
    async def peer(server: wt.Server) -> tuple[bytes, tuple[int, str]]:
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
    async def peer(server: wt.Server) -> tuple[int, set[bytes]]:
        async with session_to(server) as session:
            echoed: set[bytes] = set()
            sent = 0
            for round_ in range(300):
                if len(echoed) >= 5:
                    break
                session.send_datagram(f"dg-{round_}".encode())
                sent += 1
                with contextlib.suppress(TimeoutError):
                    echoed.add(await session.receive_datagram(0.05))
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

    async def peer(server: wt.Server) -> bytes:
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
    async def peer(server: wt.Server) -> int:
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
    async def peer(server: wt.Server) -> tuple[int, str]:
        async with session_to(server) as session:
            return await session.wait_close_info()

    async with running_server(cert) as server:
        _, close = await together(roles.close_by_us(server), peer(server))
    assert close == (roles.CLOSE_CODE, roles.CLOSE_REASON)


@pytest.mark.interop("close-by-peer")
async def test_close_by_peer(cert: Cert) -> None:
    async def peer(server: wt.Server) -> bytes:
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


@pytest.mark.interop("reset-by-us")
async def test_reset_by_us(cert: Cert) -> None:
    async def peer(server: wt.Server) -> int:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(b"go", end=True)
            code = await stream.wait_reset()
            await finish(session)
            return code

    async with running_server(cert) as server:
        _, code = await together(roles.reset_by_us(server), peer(server))
    assert code == roles.RESET_BY_US


@pytest.mark.interop("reset-by-peer")
async def test_reset_by_peer(cert: Cert) -> None:
    async def peer(server: wt.Server) -> tuple[int, str]:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(b"partial")
            assert await stream.read_at_least(3) == b"got"
            stream.reset(roles.RESET_BY_PEER)
            return await session.wait_close_info()

    async with running_server(cert) as server:
        error, close = await together(roles.reset_by_peer(server), peer(server))
    assert (error.kind, error.code) == ("reset", roles.RESET_BY_PEER)
    assert close == (0, "seen")


@pytest.mark.interop("stop-sending-by-us")
async def test_stop_sending_by_us(cert: Cert) -> None:
    async def peer(server: wt.Server) -> int:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(b"\0" * 1024)
            code = await stream.wait_stop()
            await finish(session)
            return code

    async with running_server(cert) as server:
        _, code = await together(roles.stop_by_us(server), peer(server))
    assert code == roles.STOP_BY_US


@pytest.mark.interop("stop-sending-by-peer")
async def test_stop_sending_by_peer(cert: Cert) -> None:
    async def peer(server: wt.Server) -> tuple[int, str]:
        async with session_to(server) as session:
            stream = session.open_bi()
            stream.write(b"send", end=True)
            await stream.read_at_least(1)
            stream.stop(roles.STOP_BY_PEER)
            return await session.wait_close_info()

    async with running_server(cert) as server:
        error, close = await together(roles.stop_by_peer(server), peer(server))
    assert (error.kind, error.code) == ("stop", roles.STOP_BY_PEER)
    assert close == (0, "seen")


@pytest.mark.interop("subprotocol")
async def test_subprotocol(cert: Cert) -> None:
    offered = ["chat.v2", "chat.v1"]

    async def peer(server: wt.Server) -> str | None:
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

    async def peer(server: wt.Server) -> None:
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
    async def ours(server: wt.Server) -> wt.SessionError:
        _, session = await roles.accept_session(server)
        with pytest.raises(wt.SessionError) as raised:
            await bounded(session.accept_bi())
        return raised.value

    async def peer(server: wt.Server) -> None:
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
    async def ours(server: wt.Server) -> wt.SessionError | None:
        _, session = await roles.accept_session(server)
        await bounded(session.wait_closed())
        return session.close_reason

    async def peer(server: wt.Server) -> None:
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

    async def peer(server: wt.Server) -> int:
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
