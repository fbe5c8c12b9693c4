"""Our Client <-> aioquic WebTransport server (tests/interop/aioquic_peer.py).

Proves that our Client interoperates with an independent HTTP/3 WebTransport server
(aioquic, draft-02 SETTINGS): certificate-hash pinning (and its 14-day rule, with a
50-year certificate), streams both ways, 200 concurrent streams against aioquic's
limit of 128 (our open_bi waits for MAX_STREAMS), server-initiated streams, datagrams,
SessionRejected.status_code, close capsules both ways, stream error codes both ways,
subprotocols, request headers, a CONNECT FIN without capsule, and 51 sequential sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest
import web_transport as wt

from tests.interop import server_roles as roles
from tests.interop.aioquic_peer import AioServer, AioSession, PeerStream, aioquic_server
from tests.interop.server_roles import bounded, pattern, together
from tests.support.peers import Cert

pytestmark = pytest.mark.interop_peer("aioquic-server")


@contextlib.asynccontextmanager
async def connected(
    cert: Cert, server: AioServer, path: str = "/interop", end: bool = True, **kwargs: Any
) -> AsyncGenerator[wt.Session]:
    """Our client's session to ``server`` (``kwargs`` to ``connect``); unless ``end`` is
    False, ended with code 0 "done" when the block succeeds."""
    async with cert.client() as c:
        session = await bounded(c.connect(url(server, path), **kwargs))
        yield session
        if end:
            await done(session)


async def play[T, U](
    cert: Cert,
    ours: Callable[[AioServer], Awaitable[T]],
    peer: Callable[[AioServer], Awaitable[U]],
) -> tuple[T, U]:
    """Run our side and the peer's against a fresh aioquic server with ``cert``."""
    async with aioquic_server(cert.certificate, cert.private_key) as server:
        return await together(ours(server), peer(server))


def url(server: AioServer, path: str = "/interop") -> str:
    return f"https://127.0.0.1:{server.port}{path}"


async def accepted(server: AioServer, protocol: str | None = None) -> AioSession:
    request = await server.next_request()
    return request.accept(protocol=protocol)


async def accepted_stream(server: AioServer) -> tuple[AioSession, PeerStream]:
    """The next session, accepted, and the first stream our client opens on it."""
    session = await accepted(server)
    return session, await session.accept_stream()


async def code_then_done(session: AioSession, code: Awaitable[int]) -> int:
    """The stream error code ``code`` gives, once our client has ended the session."""
    seen = await code
    await expect_done(session)
    return seen


async def expect_done(session: AioSession) -> None:
    assert await session.wait_close_info() == (0, "done")


async def done(session: wt.Session) -> None:
    session.close(0, "done")
    await bounded(session.wait_closed())


async def echo(stream: PeerStream) -> None:
    stream.write(await stream.read_all(60), end=True)


@roles.BIDI_ECHO_SIZES
async def test_bidi_echo(cert: Cert, size: int) -> None:
    data = pattern(size)

    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        await echo(await session.accept_stream())
        await expect_done(session)

    async def ours(server: AioServer) -> bytes:
        async with connected(cert, server) as session:
            send, recv = await bounded(session.open_bi())
            _, received = await asyncio.gather(_write_all(send, data), bounded(recv.read(), 120))
            return received

    received, _ = await play(cert, ours, peer)
    assert received == data


async def _write_all(send: wt.SendStream, data: bytes) -> None:
    await bounded(send.write(data), 120)
    await bounded(send.finish())


@pytest.mark.interop("uni-to-peer")
async def test_uni_to_peer(cert: Cert) -> None:
    data = pattern(64 << 10)

    async def peer(server: AioServer) -> bytes:
        session, stream = await accepted_stream(server)
        assert stream.unidirectional
        received = await stream.read_all()
        session.close(0, "received")
        return received

    async def ours(server: AioServer) -> wt.SessionError | None:
        async with connected(cert, server, end=False) as session:
            send = await bounded(session.open_uni())
            await _write_all(send, data)
            await bounded(session.wait_closed())
            return session.close_reason

    reason, received = await play(cert, ours, peer)
    assert received == data
    assert isinstance(reason, wt.SessionClosedByPeer)
    assert (reason.source, reason.code, reason.reason) == ("session", 0, "received")


@pytest.mark.interop("uni-from-peer")
async def test_uni_from_peer(cert: Cert) -> None:
    data = pattern(64 << 10)

    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        # Opened right after the 200: our Client must not lose a stream that arrives
        # with (or before) the CONNECT response.
        session.open_uni().write(data, end=True)
        await expect_done(session)

    async def ours(server: AioServer) -> bytes:
        async with connected(cert, server) as session:
            recv = await bounded(session.accept_uni())
            received = await bounded(recv.read())
            return received

    received, _ = await play(cert, ours, peer)
    assert received == data


@pytest.mark.interop("many-concurrent-bidi")
async def test_many_concurrent_bidi(cert: Cert) -> None:
    count = 200
    texts = [f"stream-{i}-".encode() + b"x" * (i % 50) for i in range(count)]

    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        async with asyncio.TaskGroup() as group:
            for _ in range(count):
                group.create_task(echo(await session.accept_stream()))
        await expect_done(session)

    async def one(session: wt.Session, text: bytes) -> bytes:
        send, recv = await bounded(session.open_bi())
        await _write_all(send, text)
        return await bounded(recv.read())

    async def ours(server: AioServer) -> list[bytes]:
        async with connected(cert, server) as session:
            received = await asyncio.gather(*(one(session, t) for t in texts))
            return received

    received, _ = await play(cert, ours, peer)
    assert received == texts


@pytest.mark.interop("server-initiated-bidi")
async def test_server_initiated_bidi(cert: Cert) -> None:
    async def peer(server: AioServer) -> bytes:
        session = await accepted(server)
        stream = session.open_bi()
        stream.write(b"question", end=True)
        reply = await stream.read_all()
        await expect_done(session)
        return reply

    async def ours(server: AioServer) -> bytes:
        async with connected(cert, server) as session:
            send, recv = await bounded(session.accept_bi())
            text = await bounded(recv.read())
            await _write_all(send, b"reply:" + text)
            await roles.acknowledged(send)
            return text

    text, reply = await play(cert, ours, peer)
    assert text == b"question"
    assert reply == b"reply:question"


@pytest.mark.interop("datagram-echo")
async def test_datagram_echo(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        for _ in range(10_000):
            getter = asyncio.ensure_future(session.receive_datagram(60))
            closer = asyncio.ensure_future(session.wait_close_info(60))
            finished, pending = await asyncio.wait(
                {getter, closer}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if closer in finished:
                assert closer.result() == (0, "done")
                return
            session.send_datagram(getter.result())

    async def ours(server: AioServer) -> tuple[int, set[bytes]]:
        async with connected(cert, server) as session:
            return await roles.send_until_echoed(
                session.send_datagram,
                lambda: asyncio.wait_for(session.receive_datagram(), 0.05),
            )

    (sent, echoed), _ = await play(cert, ours, peer)
    assert len(echoed) >= 5
    assert echoed <= {f"dg-{i}".encode() for i in range(sent)}


@pytest.mark.interop("datagram-max-size")
async def test_datagram_max_size(cert: Cert) -> None:
    # aioquic exposes no maximum: it answers with 1000-byte datagrams.
    size = 1000

    async def peer(server: AioServer) -> list[bytes]:
        session = await accepted(server)
        got: list[bytes] = []
        for _ in range(3000):
            if session.close_info is not None:
                break
            with contextlib.suppress(TimeoutError):
                got.append(await session.receive_datagram(0.05))
                session.send_datagram(pattern(size))
        assert session.close_info == (0, "done")
        return got

    async def ours(server: AioServer) -> tuple[int, bytes]:
        async with connected(cert, server, end=False) as session:
            roles.one_byte_too_many(session)
            maximum = session.max_datagram_size
            got: bytes | None = None
            for _ in range(300):
                session.send_datagram(pattern(maximum))
                with contextlib.suppress(TimeoutError):
                    got = await asyncio.wait_for(session.receive_datagram(), 0.05)
                    break
            await done(session)
            assert got is not None
            return maximum, got

    (maximum, got), received = await play(cert, ours, peer)
    assert pattern(maximum) in received
    assert all(d == pattern(len(d)) for d in received)
    assert got == pattern(size)


@pytest.mark.interop("cert-hash-pinning")
async def test_cert_hash_pinning(cert: Cert) -> None:
    async with aioquic_server(cert.certificate, cert.private_key) as server:
        async with wt.Client(server_certificate_hashes=[bytes(reversed(cert.hash))]) as c:
            with pytest.raises(wt.ConnectError):
                await bounded(c.connect(url(server)))

        async def peer() -> None:
            session = await accepted(server)
            await expect_done(session)

        async def ours() -> str | None:
            async with connected(cert, server) as session:
                return session.url

        session_url, _ = await together(ours(), peer())
    assert session_url == url(server)


@pytest.mark.interop("cert-hash-over-14-days")
async def test_cert_hash_over_14_days(long_cert: Cert) -> None:
    async with (
        aioquic_server(long_cert.certificate, long_cert.private_key) as server,
        long_cert.client() as c,
    ):
        with pytest.raises(wt.ConnectError, match="14 days"):
            await bounded(c.connect(url(server)))


@pytest.mark.interop("session-rejected")
async def test_session_rejected(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        (await server.next_request()).reject(403)

    async def ours(server: AioServer) -> wt.SessionRejected:
        async with cert.client() as c:
            with pytest.raises(wt.SessionRejected) as raised:
                await bounded(c.connect(url(server)))
            return raised.value

    rejected, _ = await play(cert, ours, peer)
    assert rejected.status_code == 403


@pytest.mark.interop("close-by-us")
async def test_close_by_us(cert: Cert) -> None:
    async def peer(server: AioServer) -> tuple[int, str]:
        return await (await accepted(server)).wait_close_info()

    async def ours(server: AioServer) -> None:
        async with connected(cert, server, end=False) as session:
            session.close(roles.CLOSE_CODE, roles.CLOSE_REASON)
            await bounded(session.wait_closed())
            assert isinstance(session.close_reason, wt.SessionClosedLocally)

    _, close = await play(cert, ours, peer)
    assert close == (roles.CLOSE_CODE, roles.CLOSE_REASON)


@pytest.mark.interop("close-by-peer")
async def test_close_by_peer(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        session.close(roles.PEER_CLOSE_CODE, roles.PEER_CLOSE_REASON)

    async def ours(server: AioServer) -> wt.SessionClosedByPeer:
        async with connected(cert, server, end=False) as session:
            with pytest.raises(wt.SessionClosedByPeer) as raised:
                await bounded(session.accept_bi())
            return raised.value

    closed, _ = await play(cert, ours, peer)
    assert (closed.source, closed.code, closed.reason) == (
        "session",
        roles.PEER_CLOSE_CODE,
        roles.PEER_CLOSE_REASON,
    )


@pytest.mark.interop("reset-by-us")
async def test_reset_by_us(cert: Cert) -> None:
    async def peer(server: AioServer) -> int:
        session, stream = await accepted_stream(server)
        assert await stream.read_at_least(7) == b"partial"
        stream.write(b"got")
        return await code_then_done(session, stream.wait_reset())

    async def ours(server: AioServer) -> None:
        async with connected(cert, server) as session:
            send, recv = await bounded(session.open_bi())
            await bounded(send.write(b"partial"))
            # Reset only once the peer holds the stream: a RESET_STREAM overtaking the
            # stream's header cannot be attributed to the session.
            assert await bounded(recv.readexactly(3)) == b"got"
            send.reset(roles.RESET_BY_US)
            # Let the RESET_STREAM leave before the close (it is not retransmitted after).
            await asyncio.sleep(0.1)

    _, code = await play(cert, ours, peer)
    assert code == roles.RESET_BY_US


@pytest.mark.interop("reset-by-peer")
async def test_reset_by_peer(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        session, stream = await accepted_stream(server)
        assert await stream.read_all() == b"go"
        stream.reset(roles.RESET_BY_PEER)
        await expect_done(session)

    async def ours(server: AioServer) -> wt.StreamClosedByPeer:
        async with connected(cert, server) as session:
            send, recv = await bounded(session.open_bi())
            await _write_all(send, b"go")
            with pytest.raises(wt.StreamClosedByPeer) as raised:
                await bounded(recv.read())
            return raised.value

    error, _ = await play(cert, ours, peer)
    assert (error.kind, error.code) == ("reset", roles.RESET_BY_PEER)


@pytest.mark.interop("stop-sending-by-us")
async def test_stop_sending_by_us(cert: Cert) -> None:
    async def peer(server: AioServer) -> int:
        session, stream = await accepted_stream(server)
        stream.write(b"\0" * 1024)
        return await code_then_done(session, stream.wait_stop())

    async def ours(server: AioServer) -> None:
        async with connected(cert, server) as session:
            send, recv = await bounded(session.open_bi())
            await bounded(send.write(b"send"))
            assert await bounded(recv.read(1))
            recv.stop(roles.STOP_BY_US)
            await asyncio.sleep(0.1)  # let STOP_SENDING leave before the close

    _, code = await play(cert, ours, peer)
    assert code == roles.STOP_BY_US


@pytest.mark.interop("stop-sending-by-peer")
async def test_stop_sending_by_peer(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        session, stream = await accepted_stream(server)
        await stream.read_at_least(1)
        stream.stop(roles.STOP_BY_PEER)
        await expect_done(session)

    async def ours(server: AioServer) -> wt.StreamClosedByPeer:
        async with connected(cert, server) as session:
            send, _recv = await bounded(session.open_bi())
            with pytest.raises(wt.StreamClosedByPeer) as raised:
                await roles.flood(send, b"s" * 16384)
            return raised.value

    error, _ = await play(cert, ours, peer)
    assert (error.kind, error.code) == ("stop", roles.STOP_BY_PEER)


@pytest.mark.interop("subprotocol")
async def test_subprotocol(cert: Cert) -> None:
    offered = ["chat.v2", "chat.v1"]

    async def peer(server: AioServer) -> list[str]:
        request = await server.next_request()
        seen = request.offered_protocols
        await expect_done(request.accept(protocol=seen[-1]))
        return seen

    async def ours(server: AioServer) -> str | None:
        async with connected(cert, server, protocols=offered) as session:
            return session.protocol

    chosen, seen = await play(cert, ours, peer)
    assert seen == offered
    assert chosen == "chat.v1"


@pytest.mark.interop("request-headers")
async def test_request_headers(cert: Cert) -> None:
    path = "/interop/headers?room=7&x=y"
    headers = {"origin": "https://client.test", "x-interop": "yes"}

    async def peer(server: AioServer) -> tuple[dict[str, str], int]:
        request = await server.next_request()
        await expect_done(request.accept())
        return request.headers, server.port

    async def ours(server: AioServer) -> None:
        async with connected(cert, server, path, headers=headers):
            pass

    _, (seen, port) = await play(cert, ours, peer)
    assert seen[":method"] == "CONNECT"
    assert seen[":protocol"] == "webtransport"
    assert seen[":path"] == path
    assert seen[":authority"] == f"127.0.0.1:{port}"
    assert seen["origin"] == "https://client.test"
    assert seen["x-interop"] == "yes"


@pytest.mark.interop("close-without-capsule")
async def test_close_without_capsule(cert: Cert) -> None:
    async def peer(server: AioServer) -> None:
        session = await accepted(server)
        await asyncio.sleep(0.1)  # let the client settle into accept_bi()
        session.h3.send_data(session.session_id, b"", end_stream=True)
        session.transmit()
        await session.wait_ended()

    async def ours(server: AioServer) -> wt.SessionError:
        async with connected(cert, server, end=False) as session:
            with pytest.raises(wt.SessionError) as raised:
                await bounded(session.accept_bi())
            return raised.value

    error, _ = await play(cert, ours, peer)
    assert isinstance(error, wt.SessionClosedByPeer), repr(error)
    assert (error.source, error.code, error.reason) == ("session", 0, "")


@pytest.mark.interop("sequential-sessions")
async def test_sequential_sessions(cert: Cert) -> None:
    count = roles.SEQUENTIAL

    async def peer(server: AioServer) -> list[tuple[int, str]]:
        closes = []
        for _ in range(count):
            session = await accepted(server)
            await echo(await session.accept_stream())
            closes.append(await session.wait_close_info())
        return closes

    async def ours(server: AioServer) -> int:
        ok = 0
        async with cert.client() as c:
            for i in range(count):
                text = f"session-{i}".encode()
                session = await bounded(c.connect(url(server)))
                send, recv = await bounded(session.open_bi())
                await _write_all(send, text)
                ok += await bounded(recv.read()) == text
                session.close(i, text.decode())
                await bounded(session.wait_closed())
        return ok

    ok, closes = await play(cert, ours, peer)
    assert ok == count
    assert closes == [(i, f"session-{i}") for i in range(count)]  # as aioquic read them
