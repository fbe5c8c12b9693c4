"""Graceful close: data written before a close arrives intact, and the close code and
reason reach the peer.

- ``Session.close(code, reason)`` after writing and finishing a stream (and waiting for
  the peer's acknowledgement with ``SendStream.wait_closed()``): the peer reads every
  byte, then sees :class:`~web_transport.SessionClosedByPeer` with ``source="session"``
  and the code and reason, in both directions and for small and large payloads.
- The same without waiting for the acknowledgement: ``close()`` right after
  ``finish()`` still delivers the finished stream first.
- ``Server.close(code, reason)`` closes every session (clients see the code and reason),
  ``accept()`` returns ``None``, new connections are refused, ``wait_closed()`` returns.
- ``Client.close(code, reason)`` closes every session of the client; the server sees the
  code and reason.
- A stream half dropped without being read or stopped ends with a WebTransport code.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
from typing import Any

import pytest
import web_transport as wt

from tests.support.echo import echo_session
from tests.support.peers import Cert, connect_pair

from ._support import BOUND, echo_bytes


async def transfer_then_close(
    certs: Cert, size: int, *, from_client: bool, wait_ack: bool, server_kwargs: dict[str, Any]
) -> tuple[bytes, bytes, BaseException | None, BaseException | None]:
    """Write ``size`` bytes on a stream, finish it, (optionally wait for the ack,) then
    close the writer's session with code 4242 / "done".

    Returns ``(sha256 sent, sha256 received, reader's error after the data, reader's
    close_reason)``.
    """
    server = certs.server(**server_kwargs)
    client = certs.client()
    try:
        url = f"https://127.0.0.1:{server.local_addr[1]}/close"
        client_session, server_session = await connect_pair(server, client, url)
        writer, reader = (
            (client_session, server_session) if from_client else (server_session, client_session)
        )
        payload = hashlib.sha256(b"seed").digest() * (size // 32)
        send, _ = await writer.open_bi()
        await send.write(payload[:1])  # the stream reaches the reader before the rest
        _, recv = await asyncio.wait_for(reader.accept_bi(), BOUND)
        received = bytearray()
        after: BaseException | None = None

        async def read_all() -> None:
            nonlocal after
            try:
                async for chunk in recv:
                    received.extend(chunk)
                # Everything arrived; the next session operation reports the close.
                await reader.accept_bi()
            except wt.WebTransportError as e:
                after = e

        reading = asyncio.create_task(read_all())
        await send.write(payload[1:])
        await send.finish()
        if wait_ack:
            assert await asyncio.wait_for(send.wait_closed(), BOUND) is None
        writer.close(4242, "done")
        await asyncio.wait_for(reading, BOUND)
        await asyncio.wait_for(reader.wait_closed(), BOUND)
        await asyncio.wait_for(writer.wait_closed(), BOUND)
        return (
            hashlib.sha256(payload).digest(),
            hashlib.sha256(received).digest(),
            after,
            reader.close_reason,
        )
    finally:
        client.close()
        server.close()


def assert_closed_by_peer(e: BaseException | None) -> None:
    assert isinstance(e, wt.SessionClosedByPeer), repr(e)
    assert (e.source, e.code, e.reason) == ("session", 4242, "done")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [1024, 1 << 20, 8 << 20])
@pytest.mark.parametrize("from_client", [True, False], ids=["client-closes", "server-closes"])
async def test_close_after_acknowledged_data_delivers_all_then_the_close(
    certs: Cert, size: int, from_client: bool
) -> None:
    sent, received, after, reason = await transfer_then_close(
        certs, size, from_client=from_client, wait_ack=True, server_kwargs={}
    )
    assert received == sent
    assert_closed_by_peer(after)
    assert_closed_by_peer(reason)


@pytest.mark.timeout(120)
async def test_close_right_after_finish_delivers_all_then_the_close(certs: Cert) -> None:
    # A window larger than the payload: write() returns at once with the data still
    # queued in quinn, so the close capsule overtakes it.
    roomy = wt.TransportConfig(stream_receive_window=16 << 20, receive_window=64 << 20)
    sent, received, after, reason = await transfer_then_close(
        certs, 2 << 20, from_client=True, wait_ack=False, server_kwargs={"transport": roomy}
    )
    assert received == sent
    assert_closed_by_peer(after)
    assert_closed_by_peer(reason)


@pytest.mark.timeout(120)
async def test_server_close_closes_every_session(certs: Cert) -> None:
    server = certs.server()
    url = f"https://127.0.0.1:{server.local_addr[1]}/s"
    clients = [certs.client() for _ in range(3)]
    try:
        pairs = [await connect_pair(server, c, url) for c in clients]
        pending = [asyncio.ensure_future(cs.accept_bi()) for cs, _ in pairs]
        server.close(9, "maintenance")
        assert await asyncio.wait_for(server.accept(), BOUND) is None
        await asyncio.wait_for(server.wait_closed(), BOUND)
        done, _ = await asyncio.wait(pending, timeout=BOUND)
        assert len(done) == len(pending)
        for (client_session, _), op in zip(pairs, pending, strict=True):
            await asyncio.wait_for(client_session.wait_closed(), BOUND)
            for e in (op.exception(), client_session.close_reason):
                assert isinstance(e, wt.SessionClosedByPeer), repr(e)
                assert (e.source, e.code, e.reason) == ("session", 9, "maintenance")
        # The closed server accepts no new session.
        with pytest.raises(wt.ConnectError):
            await asyncio.wait_for(certs.client(max_idle_timeout=3.0).connect(url), BOUND)
    finally:
        for c in clients:
            c.close()
        server.close()


async def client_close_scenario(certs: Cert) -> list[BaseException | None]:
    """Three sessions of one client; ``Client.close(11, "client leaving")``. Checks the
    client side and that the server still serves; returns the server sessions'
    ``close_reason``."""
    server = certs.server()
    url = f"https://127.0.0.1:{server.local_addr[1]}/c"
    client = certs.client()
    try:
        pairs = [await connect_pair(server, client, url) for _ in range(3)]
        client.close(11, "client leaving")
        await asyncio.wait_for(client.wait_closed(), BOUND)
        reasons = []
        for client_session, server_session in pairs:
            await asyncio.wait_for(server_session.wait_closed(), BOUND)
            reasons.append(server_session.close_reason)
            assert isinstance(client_session.close_reason, wt.SessionClosedLocally)
            with pytest.raises(wt.SessionClosedLocally):
                await client_session.open_bi()
        # The server is unaffected: a new client echoes.
        async with certs.client() as other:
            session, peer = await connect_pair(server, other, url)
            serving = asyncio.create_task(echo_session(peer))
            got = await asyncio.wait_for(echo_bytes(session, b"still here"), BOUND)
            assert got == b"still here"
            session.close()
            serving.cancel()
        return reasons
    finally:
        client.close()
        server.close()


@pytest.mark.timeout(120)
async def test_client_close_closes_every_session(certs: Cert) -> None:
    reasons = await client_close_scenario(certs)
    assert all(isinstance(e, wt.SessionClosed) for e in reasons), reasons


@pytest.mark.timeout(120)
@pytest.mark.xfail(
    # Not strict: the outcome is a race inside web-transport-quinn (about 1 run in 5 the
    # binding sees the real reason first), so a pass must not fail the suite.
    strict=False,
    reason="binding bug: the server reports a peer's CONNECTION_CLOSE(11, 'client "
    "leaving') as SessionClosedByPeer(source='session', code=0, reason='') most of the "
    "time: the crate's capsule task closes the connection locally after the peer's "
    "close, quinn then reports LocallyClosed, and the binding guesses 'capsule-less "
    "close, code 0'",
)
async def test_client_close_code_and_reason_reach_the_server(certs: Cert) -> None:
    reasons: list[BaseException | None] = []
    for _ in range(10):  # one session per client, closed at once (the race loses ~80 %)
        server = certs.server()
        client = certs.client()
        try:
            url = f"https://127.0.0.1:{server.local_addr[1]}/c"
            _, server_session = await connect_pair(server, client, url)
            client.close(11, "client leaving")
            await asyncio.wait_for(server_session.wait_closed(), BOUND)
            reasons.append(server_session.close_reason)
        finally:
            client.close()
            server.close()
    wrong = [
        e
        for e in reasons
        if not (
            isinstance(e, wt.SessionClosedByPeer)
            and (e.source, e.code, e.reason) == ("application", 11, "client leaving")
        )
    ]
    assert not wrong, [(type(e).__name__, vars(e)) for e in wrong]


async def write_until_error(send: wt.SendStream) -> BaseException:
    """Write until the peer's STOP_SENDING arrives (bounded); return the error."""
    for _ in range(1000):
        try:
            await send.write(b"y" * 1024)
        except wt.WebTransportError as e:
            return e
        await asyncio.sleep(0.01)
    raise AssertionError("the writer was never stopped")


@pytest.mark.timeout(60)
async def test_dropped_recv_stream_stops_the_writer_with_a_webtransport_code(
    certs: Cert,
) -> None:
    server = certs.server()
    client = certs.client()
    try:
        url = f"https://127.0.0.1:{server.local_addr[1]}/drop"
        client_session, server_session = await connect_pair(server, client, url)
        send, _ = await client_session.open_bi()
        await send.write(b"x")
        peer_send, peer_recv = await asyncio.wait_for(server_session.accept_bi(), BOUND)
        del peer_send, peer_recv  # the peer drops the stream without reading or stopping
        gc.collect()
        error = await write_until_error(send)
        assert isinstance(error, wt.StreamClosedByPeer), repr(error)
        assert (error.kind, error.code) == ("stop", 0)
    finally:
        client.close()
        server.close()
