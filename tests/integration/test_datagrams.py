"""Datagrams over loopback: send/receive both ways, send_datagram_wait, receive_datagrams,
the datagrams() iterator (and its end when the session closes), max_datagram_size and
DatagramTooLargeError, DatagramNotSupportedError (both reasons), bytes-like payloads,
cancellation of receives, and the datagram counters in stats()."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import web_transport as wt

from .conftest import WAIT, Pair, closed_by_peer_while_pending

pytestmark = pytest.mark.timeout(60)


async def deliver(sender: wt.Session, receiver: wt.Session, payload: bytes) -> bytes:
    """Send ``payload`` until the receiver gets it (datagrams are unreliable; loopback
    rarely drops, but a loaded machine might). Bounded by WAIT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        sender.send_datagram(payload)
        try:
            return await asyncio.wait_for(receiver.receive_datagram(), 0.5)
        except TimeoutError:
            continue
    raise TimeoutError("datagram never arrived")


@pytest.mark.parametrize("direction", ["c2s", "s2c"])
async def test_datagram_round_trip(pair: Pair, direction: str) -> None:
    sender, receiver = (
        (pair.session, pair.peer) if direction == "c2s" else (pair.peer, pair.session)
    )
    got = await deliver(sender, receiver, b"ping")
    assert got == b"ping"
    assert isinstance(got, bytes)


async def test_send_datagram_accepts_bytes_like(pair: Pair) -> None:
    for payload in (bytearray(b"ba"), memoryview(b"xmvx")[1:3]):
        got = await deliver(pair.session, pair.peer, payload)  # type: ignore
        assert got == bytes(payload)
    with pytest.raises(TypeError, match="data"):
        pair.session.send_datagram("text")  # type: ignore
    with pytest.raises(TypeError, match="data"):
        await pair.session.send_datagram_wait(42)  # type: ignore


async def test_send_datagram_wait(pair: Pair) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    got = None
    while got is None and loop.time() < deadline:
        assert await asyncio.wait_for(pair.session.send_datagram_wait(b"waited"), WAIT) is None
        try:
            got = await asyncio.wait_for(pair.peer.receive_datagram(), 0.5)
        except TimeoutError:
            continue
    assert got == b"waited"


async def test_max_size_datagram_and_too_large(pair: Pair) -> None:
    size = pair.session.max_datagram_size
    assert isinstance(size, int)
    assert 1000 <= size <= 65535
    assert pair.peer.max_datagram_size > 0
    biggest = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    assert len(biggest) == size
    assert await deliver(pair.session, pair.peer, biggest) == biggest

    # Larger than any QUIC datagram can be (a UDP payload is at most 65,527 bytes):
    # max_datagram_size itself may grow meanwhile, as path MTU discovery (RFC 9000 §14.3)
    # raises the path's MTU.
    too_big = b"x" * 65536
    with pytest.raises(wt.DatagramTooLargeError) as info:
        pair.session.send_datagram(too_big)
    assert isinstance(info.value, wt.DatagramError)
    assert "65536" in str(info.value)
    with pytest.raises(wt.DatagramTooLargeError):
        await pair.session.send_datagram_wait(too_big)
    with pytest.raises(wt.DatagramTooLargeError):
        pair.peer.send_datagram(b"y" * 100_000)
    # The session is unaffected.
    assert pair.session.close_reason is None
    assert await deliver(pair.session, pair.peer, b"after") == b"after"


async def test_datagrams_iterator(pair: Pair) -> None:
    received: list[bytes] = []
    done = asyncio.Event()

    async def collect() -> None:
        async for datagram in pair.peer.datagrams():
            assert isinstance(datagram, bytes)
            received.append(datagram)
            if len(set(received)) == 3:
                done.set()

    task = asyncio.ensure_future(collect())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not done.is_set() and loop.time() < deadline:
        for payload in (b"d0", b"d1", b"d2"):
            pair.session.send_datagram(payload)
        try:
            await asyncio.wait_for(done.wait(), 0.5)
        except TimeoutError:
            continue
    assert set(received) == {b"d0", b"d1", b"d2"}
    # The iterator ends (StopAsyncIteration) when the session closes.
    pair.session.close(0, "")
    await asyncio.wait_for(task, WAIT)
    assert isinstance(pair.peer.datagrams(), wt.Datagrams)


async def test_receive_datagram_raises_once_closed(pair: Pair) -> None:
    closed = await closed_by_peer_while_pending(
        pair.peer.receive_datagram(), lambda: pair.session.close(8, "gone")
    )
    assert closed.code == 8


async def test_cancelled_receive_keeps_datagram(pair: Pair) -> None:
    pending = asyncio.ensure_future(pair.peer.receive_datagram())
    await asyncio.sleep(0.05)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert await deliver(pair.session, pair.peer, b"kept") == b"kept"


async def test_queued_datagrams_are_received_in_order(pair: Pair) -> None:
    # Get one through first so the path is warm, then queue several unread.
    await deliver(pair.session, pair.peer, b"warm")
    for i in range(5):
        pair.session.send_datagram(f"q{i}".encode())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while pair.peer.stats().datagrams_queued < 5 and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    stats = pair.peer.stats()
    assert stats.datagrams_queued == 5
    assert stats.datagrams_received >= 6
    assert stats.datagrams_dropped_incoming == 0
    got = [await asyncio.wait_for(pair.peer.receive_datagram(), WAIT) for _ in range(5)]
    assert got == [f"q{i}".encode() for i in range(5)]
    assert pair.peer.stats().datagrams_queued == 0
    assert pair.session.stats().datagrams_dropped_outgoing == 0


async def queue_datagrams(pair: Pair, payloads: list[bytes]) -> None:
    """Send ``payloads`` to the server side and wait until all are queued there."""
    await deliver(pair.session, pair.peer, b"warm")
    for payload in payloads:
        pair.session.send_datagram(payload)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while pair.peer.stats().datagrams_queued < len(payloads) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert pair.peer.stats().datagrams_queued == len(payloads)


async def test_receive_datagrams_batches(pair: Pair) -> None:
    payloads = [f"b{i}".encode() for i in range(5)]
    await queue_datagrams(pair, payloads)
    first = await asyncio.wait_for(pair.peer.receive_datagrams(3), WAIT)
    assert first == payloads[:3]
    rest = await asyncio.wait_for(pair.peer.receive_datagrams(), WAIT)
    assert rest == payloads[3:]
    # With nothing queued it waits for the next datagram.
    pending = asyncio.ensure_future(pair.peer.receive_datagrams(10))
    await asyncio.sleep(0.05)
    assert not pending.done()
    pair.session.send_datagram(b"later")
    got = await asyncio.wait_for(pending, WAIT)
    assert got[0] == b"later"
    assert all(isinstance(d, bytes) for d in got)


async def test_receive_datagrams_validation_and_close(pair: Pair) -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_count"):
            pair.peer.receive_datagrams(bad)
    with pytest.raises(TypeError):
        pair.peer.receive_datagrams("3")  # type: ignore
    pair.session.close(4, "no more")
    with pytest.raises(wt.SessionClosedByPeer):
        await asyncio.wait_for(pair.peer.receive_datagrams(), WAIT)


async def test_cancelled_receive_datagrams_keeps_them(pair: Pair) -> None:
    payloads = [b"k0", b"k1"]
    await queue_datagrams(pair, payloads)
    op = pair.peer.receive_datagrams()
    op.close()  # cancelled after its datagrams were taken: they go back
    assert await asyncio.wait_for(pair.peer.receive_datagrams(), WAIT) == payloads


@pytest.mark.parametrize("disabled_on", ["server", "client"])
async def test_datagrams_not_supported(
    connect_pair: Callable[..., Awaitable[Pair]], disabled_on: str
) -> None:
    """A side with TransportConfig(datagram_receive_buffer_size=None) does not offer
    datagrams: it cannot send them ("disabled_locally") and its peer may not send it any
    ("unsupported_by_peer")."""
    no_datagrams = {"transport": wt.TransportConfig(datagram_receive_buffer_size=None)}
    if disabled_on == "server":
        p = await connect_pair(server_kwargs=no_datagrams)
        disabled, other = p.peer, p.session
    else:
        p = await connect_pair(client_kwargs=no_datagrams)
        disabled, other = p.session, p.peer
    with pytest.raises(wt.DatagramNotSupportedError) as info:
        other.send_datagram(b"x")
    assert info.value.reason == "unsupported_by_peer"
    assert isinstance(info.value, wt.DatagramError)
    assert other.max_datagram_size == 0
    with pytest.raises(wt.DatagramNotSupportedError) as info:
        await asyncio.wait_for(other.send_datagram_wait(b"x"), WAIT)
    assert info.value.reason == "unsupported_by_peer"
    with pytest.raises(wt.DatagramNotSupportedError) as info:
        disabled.send_datagram(b"x")
    assert info.value.reason == "disabled_locally"
    assert disabled.max_datagram_size == 0
    # Streams are unaffected.
    send = await other.open_uni()
    await send.write(b"stream")
    await send.finish()
    recv = await asyncio.wait_for(disabled.accept_uni(), WAIT)
    assert await asyncio.wait_for(recv.read(), WAIT) == b"stream"


async def test_send_datagrams_wait_sends_a_burst_in_order(pair: Pair) -> None:
    await deliver(pair.session, pair.peer, b"warm")
    payloads = [f"burst{i}".encode() for i in range(20)]
    for source in (payloads, iter(payloads), tuple(bytearray(p) for p in payloads)):
        assert await asyncio.wait_for(pair.session.send_datagrams_wait(source), WAIT) is None
        got: list[bytes] = []
        while len(got) < len(payloads):
            got += await asyncio.wait_for(pair.peer.receive_datagrams(256), WAIT)
        assert got == payloads
    assert pair.session.stats().datagrams_dropped_outgoing == 0


async def test_send_datagrams_wait_checks_every_datagram_first(pair: Pair) -> None:
    too_big = b"x" * 65536  # more than any QUIC datagram can hold
    with pytest.raises(TypeError, match="iterable"):
        pair.session.send_datagrams_wait(b"one datagram")  # type: ignore
    with pytest.raises(TypeError):
        pair.session.send_datagrams_wait(42)  # type: ignore
    with pytest.raises(TypeError, match="data"):
        pair.session.send_datagrams_wait([b"sent?", "text"])  # type: ignore
    with pytest.raises(wt.DatagramTooLargeError):
        pair.session.send_datagrams_wait([b"sent?", too_big])
    # Nothing from the rejected bursts went out: the next datagram is the first to arrive.
    assert await deliver(pair.session, pair.peer, b"first") == b"first"
    assert pair.peer.stats().datagrams_queued == 0
    await pair.session.send_datagrams_wait([])
    pair.session.close()
    with pytest.raises(wt.SessionClosedLocally):
        await pair.session.send_datagrams_wait([b"late"])
