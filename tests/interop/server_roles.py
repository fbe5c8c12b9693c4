"""Our ``web_transport.Server`` side of each scenario, shared by the browser and the
aioquic-client tests (the peer differs, our behaviour and assertions do not).

Every wait is bounded (``WAIT``); every role returns what it observed so the test can
assert it against what the peer reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import web_transport as wt

from tests.support.peers import Cert, Served, serve

WAIT = 60.0

CLOSE_CODE = 4242
CLOSE_REASON = "server says bye"
PEER_CLOSE_CODE = 3003
PEER_CLOSE_REASON = "peer says bye"
RESET_BY_US = 42
RESET_BY_PEER = 77
STOP_BY_US = 21
STOP_BY_PEER = 99
SEQUENTIAL = 51  # 50 sessions, then one more proves the server outlived them


def case(scenario: str, *values: object) -> Any:
    """A parameter set of a test proving ``scenario`` (its id is the scenario's name)."""
    return pytest.param(*values, marks=pytest.mark.interop(scenario), id=scenario)


#: The bidirectional echo scenarios, one size each: every peer's ``test_bidi_echo``.
BIDI_ECHO_SIZES = pytest.mark.parametrize(
    "size", [case("bidi-echo-small", 1024), case("bidi-echo-8mib", 8 << 20)]
)

_BASE = bytes((i * 31 + 7) & 255 for i in range(256))


def pattern(size: int) -> bytes:
    """The same bytes as ``pattern(size)`` in page.js."""
    return (_BASE * (size // 256 + 1))[:size]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def bounded[T](awaitable: Awaitable[T], within: float = WAIT) -> T:
    return await asyncio.wait_for(awaitable, within)


def running_server(cert: Cert, **kwargs: Any) -> contextlib.AbstractAsyncContextManager[Served]:
    """Our Server on 127.0.0.1:0, whose requests each role takes itself. On exit, sessions
    still open (a failed or expected-to-fail scenario) are closed with a capsule first, so
    that a browser still waiting in its scenario sees ``closed`` at once instead of running
    into its script timeout."""
    return serve(cert, on_request=None, path="/interop", close_open=True, **kwargs)


def url_of(server: Served, path: str = "/interop") -> str:
    return server.url_for(path)


async def together[T](
    ours: Awaitable[T], peer: Awaitable[Any], within: float = 150.0
) -> tuple[T, Any]:
    """Run our side and the peer's side concurrently and return both results; if either
    fails, the other is cancelled and the error raised."""
    async with asyncio.timeout(within), asyncio.TaskGroup() as group:
        ours_task = group.create_task(_as_coro(ours))
        peer_task = group.create_task(_as_coro(peer))
    return ours_task.result(), peer_task.result()


async def _as_coro[T](awaitable: Awaitable[T]) -> T:
    return await awaitable


async def accept_session(
    server: Served, *, protocol: str | None = None
) -> tuple[wt.SessionRequest, wt.Session]:
    return await server.accept(protocol=protocol, wait=WAIT)


async def send_until_echoed(
    send: Callable[[bytes], object],
    receive: Callable[[], Awaitable[bytes]],
    want: int = 5,
    rounds: int = 300,
) -> tuple[int, set[bytes]]:
    """Send datagrams ``dg-<round>`` with ``send``, one a round, each followed by one
    ``receive`` (which raises ``TimeoutError`` when nothing came back in time), until
    ``want`` different echoes arrived or ``rounds`` were sent: ``(sent, echoed)``."""
    echoed: set[bytes] = set()
    sent = 0
    for round_ in range(rounds):
        if len(echoed) >= want:
            break
        send(f"dg-{round_}".encode())
        sent += 1
        with contextlib.suppress(TimeoutError):
            echoed.add(await receive())
    return sent, echoed


async def expect_peer_done(session: wt.Session) -> None:
    """The peer ends the session with code 0 / "done" once it has all it expects."""
    await bounded(session.wait_closed())
    reason = session.close_reason
    assert isinstance(reason, wt.SessionClosedByPeer), repr(reason)
    assert (reason.source, reason.code, reason.reason) == ("session", 0, "done"), repr(reason)


async def client_ready(session: wt.Session) -> None:
    """Wait for the client's "ready" stream: it has processed our 200 response, so a
    stream we open now cannot race the session's establishment on its side."""
    _send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.read()) == b"ready"


async def acknowledged(send: wt.SendStream) -> None:
    """Every byte was acknowledged (``wait_closed() is None``), unless the peer, having
    read it all, closed the session before the acknowledgement reached us."""
    with contextlib.suppress(wt.SessionClosedByPeer):
        assert await bounded(send.wait_closed()) is None


async def _echo(send: wt.SendStream, recv: wt.RecvStream) -> bytes:
    data = await bounded(recv.read())
    await bounded(send.write(data))
    await bounded(send.finish())
    await acknowledged(send)
    return data


async def echo_bidi(server: Served, *, streams: int = 1) -> list[bytes]:
    """Accept one session; echo ``streams`` bidi streams concurrently; the peer closes."""
    _, session = await accept_session(server)
    echoed: list[bytes] = []
    async with asyncio.TaskGroup() as group:
        for _ in range(streams):
            send, recv = await bounded(session.accept_bi())
            group.create_task(_echo_into(send, recv, echoed))
    await expect_peer_done(session)
    return echoed


async def _echo_into(send: wt.SendStream, recv: wt.RecvStream, out: list[bytes]) -> None:
    out.append(await _echo(send, recv))


async def receive_uni(server: Served) -> bytes:
    """Accept one session and read one uni stream to its end; then close the session."""
    _, session = await accept_session(server)
    recv = await bounded(session.accept_uni())
    data = await bounded(recv.read())
    assert await bounded(recv.wait_closed()) is None
    session.close(0, "received")
    await bounded(session.wait_closed())
    return data


async def send_uni(server: Served, data: bytes) -> None:
    """Accept one session and send ``data`` on a uni stream; the peer closes."""
    _, session = await accept_session(server)
    await client_ready(session)
    send = await bounded(session.open_uni())
    await bounded(send.write(data))
    await bounded(send.finish())
    await acknowledged(send)
    await expect_peer_done(session)


async def server_bidi(server: Served, text: bytes) -> bytes:
    """Open a bidi stream to the client, send ``text``, read its answer, close."""
    _, session = await accept_session(server)
    await client_ready(session)
    send, recv = await bounded(session.open_bi())
    await bounded(send.write(text))
    await bounded(send.finish())
    reply = await bounded(recv.read())
    session.close(0, "answered")
    await bounded(session.wait_closed())
    return reply


async def datagram_echo(server: Served) -> list[bytes]:
    """Echo every datagram until the peer closes the session."""
    _, session = await accept_session(server)
    seen: list[bytes] = []
    with contextlib.suppress(wt.SessionClosedByPeer):
        for _ in range(10_000):
            datagram = await bounded(session.receive_datagram())
            seen.append(datagram)
            session.send_datagram(datagram)
    await expect_peer_done(session)
    return seen


def one_byte_too_many(session: wt.Session) -> set[int]:
    """``max_datagram_size + 1`` bytes raise DatagramTooLargeError. The maximum can grow
    between reading it and sending (path MTU discovery): a send that goes through is
    only acceptable if the maximum grew meanwhile, then try again (bounded). Returns the
    sizes of such probes, which did go out (as ``pattern(size)``)."""
    went_out: set[int] = set()
    for _ in range(20):
        size = session.max_datagram_size
        try:
            session.send_datagram(pattern(size + 1))
        except wt.DatagramTooLargeError:
            return went_out
        went_out.add(size + 1)
        assert session.max_datagram_size > size, "oversized datagram accepted"
    pytest.fail("max_datagram_size kept growing")


async def datagram_max_size(server: Served) -> dict[str, Any]:
    """Answer each datagram with one of exactly ``max_datagram_size`` bytes; check that
    one byte more raises DatagramTooLargeError; until the peer closes."""
    _, session = await accept_session(server)
    ours = session.max_datagram_size
    assert ours > 0
    sent = one_byte_too_many(session)
    sizes: list[int] = []
    digests: set[str] = set()
    with contextlib.suppress(wt.SessionClosedByPeer):
        for _ in range(10_000):
            datagram = await bounded(session.receive_datagram())
            sizes.append(len(datagram))
            digests.add(sha256_hex(datagram))
            size = session.max_datagram_size
            session.send_datagram(pattern(size))
            sent.add(size)
    await expect_peer_done(session)
    return {"ours": ours, "sizes": sizes, "digests": digests, "sent": sent}


async def close_by_us(server: Served) -> None:
    _, session = await accept_session(server)
    session.close(CLOSE_CODE, CLOSE_REASON)
    await bounded(session.wait_closed())
    assert isinstance(session.close_reason, wt.SessionClosedLocally)


async def close_by_peer(server: Served) -> wt.SessionClosedByPeer:
    """Answer one bidi stream (so the peer knows we hold the session), then expect the
    peer's close to surface from a pending accept_bi()."""
    _, session = await accept_session(server)
    send, recv = await bounded(session.accept_bi())
    await _echo(send, recv)
    with pytest.raises(wt.SessionClosedByPeer) as raised:
        await bounded(session.accept_bi())
    return raised.value


async def reset_by_us(server: Served) -> None:
    """Read the peer's request on a bidi stream, then reset our sending side."""
    _, session = await accept_session(server)
    send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.read()) == b"go"
    send.reset(RESET_BY_US)
    await expect_peer_done(session)


async def reset_by_peer(server: Served) -> wt.StreamClosedByPeer:
    """Read the peer's first bytes, answer "got" (so the peer resets a stream we are known
    to hold: a RESET_STREAM that overtakes the stream's header is unattributable), then
    read until the peer's reset."""
    _, session = await accept_session(server)
    send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.readexactly(7)) == b"partial"
    await bounded(send.write(b"got"))
    with pytest.raises(wt.StreamClosedByPeer) as raised:
        await _drain(recv)
    session.close(0, "seen")
    await bounded(session.wait_closed())
    return raised.value


async def _drain(recv: wt.RecvStream) -> None:
    """Read to the end (bounded in count and time)."""
    for _ in range(10_000):
        if not await bounded(recv.read(65536)):
            return


async def flood(send: wt.SendStream, chunk: bytes) -> None:
    """Write until an error (bounded in count and time: a peer's STOP_SENDING arrives
    within milliseconds on loopback, 10 s per write is generous)."""
    for _ in range(100_000):
        await bounded(send.write(chunk), 10)


async def stop_by_us(server: Served) -> None:
    """Read the first bytes of the peer's stream, then ask it to stop sending."""
    _, session = await accept_session(server)
    _send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.read(1))
    recv.stop(STOP_BY_US)
    await expect_peer_done(session)


async def stop_by_peer(server: Served) -> wt.StreamClosedByPeer:
    """Write on the peer's bidi stream until the peer's STOP_SENDING surfaces."""
    _, session = await accept_session(server)
    send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.read()) == b"send"
    chunk = b"s" * 16384
    with pytest.raises(wt.StreamClosedByPeer) as raised:
        await flood(send, chunk)
    session.close(0, "seen")
    await bounded(session.wait_closed())
    return raised.value


async def inspect_request(server: Served) -> wt.SessionRequest:
    """Accept one session choosing the LAST offered protocol (so the choice is visibly the
    server's), close it, return the request."""
    request = await server.next_request(WAIT)
    assert request is not None
    chosen = request.protocols[-1] if request.protocols else None
    session = await bounded(request.accept(protocol=chosen))
    assert session.protocol == chosen
    session.close(0, "inspected")
    await bounded(session.wait_closed())
    return request


async def reject(server: Served, status: int = 403) -> wt.SessionRequest:
    request = await server.next_request(WAIT)
    assert request is not None
    await bounded(request.reject(status))
    return request


# How a peer's close arrives when its CONNECTION_CLOSE overtakes the capsule sent just
# before it (see scenarios.py, close-capsule-with-connection-close): the code and reason
# are lost.
LOST_CAPSULE = {("session", 0, ""), ("application", 0x100, "")}


async def sequential(server: Served, count: int = SEQUENTIAL) -> list[tuple[str, int, str]]:
    """Serve ``count`` sessions one after another (echo one stream; the peer closes with
    code i and reason "session-i"); return (source, code, reason) of each close."""
    closes: list[tuple[str, int, str]] = []
    for _ in range(count):
        _, session = await accept_session(server)
        send, recv = await bounded(session.accept_bi())
        await _echo(send, recv)
        await bounded(session.wait_closed())
        reason = session.close_reason
        assert isinstance(reason, wt.SessionClosedByPeer), repr(reason)
        assert reason.code is not None
        closes.append((reason.source, reason.code, reason.reason))
    return closes


def exact_closes(count: int) -> list[tuple[str, int, str]]:
    return [("session", i, f"session-{i}") for i in range(count)]
