"""Nothing hangs: every pending operation wakes when the session ends, however it ends.

For each way a session can end — (a) closed locally, (b) closed by the peer, (c) the peer
process killed with SIGKILL mid-transfer, (d) the idle timeout, (e) the peer's server
restarted on the same port — a session with one of each kind of pending operation
(reads with and without data flowing, a write blocked by flow control, an ``open_bi``
blocked by the stream limit, ``accept_bi``, ``accept_uni``, ``receive_datagram``, the
``datagrams()`` iterator, both streams' ``wait_closed`` and ``Session.wait_closed``) is
ended, and every operation must finish within a bound:

- ``test_pending_operations_wake`` proves none hangs and each raises a
  :class:`~web_transport.SessionError` (iterators end, ``Session.wait_closed`` returns);
- ``test_pending_operations_raise_the_documented_exception`` checks the exact exception
  of each operation and ``Session.close_reason`` against the documentation.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import pytest
import web_transport as wt

from tests.support.peers import Cert, connect_pair

from ._support import (
    BOUND,
    CMD_ECHO,
    CMD_FIREHOSE,
    CMD_QUIET,
    CMD_SINK,
    Child,
    assert_clean_stderr,
    open_scripted,
    scripted_session,
    start_relay,
)

#: Idle timeout for the scenarios that wait for it (seconds); small to keep tests quick.
IDLE = 1.5
#: Stream receive window of the peer: small, so a write blocks on flow control at once.
WINDOW = 65536
#: The peer's bidirectional stream limit: the CONNECT stream plus three of ours, so a
#: fourth ``open_bi`` waits.
MAX_BIDI = 4

SCENARIOS = ["local_close", "peer_close", "peer_sigkill", "idle_timeout", "server_restart"]


@dataclass
class Outcome:
    """How each pending operation ended: an exception instance, or ``("ok", value)``."""

    results: dict[str, Any]
    close_reason: BaseException | None
    elapsed: float
    peer_close_reason: BaseException | None = None


async def start_pending(session: wt.Session, keep: list[Any]) -> dict[str, asyncio.Future[Any]]:
    """Start one of each kind of pending operation on ``session``; check none is done."""
    streams = await open_scripted(session, CMD_QUIET, CMD_FIREHOSE, CMD_SINK)
    (q_send, q_recv), (f_send, f_recv), (k_send, k_recv) = streams
    keep.extend([q_send, q_recv, f_send, f_recv, k_send, k_recv])
    first_chunk = asyncio.Event()

    async def firehose() -> int:
        total = 0
        while chunk := await f_recv.read(65536):
            total += len(chunk)
            first_chunk.set()
        return total

    async def datagram_iter() -> int:
        return len([d async for d in session.datagrams()])

    ops: dict[str, Awaitable[Any]] = {
        "read_idle": q_recv.read(),
        "read_mid_transfer": firehose(),
        "write_flow_blocked": k_send.write(b"x" * (8 << 20)),
        "open_bi_limit_blocked": session.open_bi(),
        "accept_bi": session.accept_bi(),
        "accept_uni": session.accept_uni(),
        "receive_datagram": session.receive_datagram(),
        "datagrams_iter": datagram_iter(),
        "send_wait_closed": q_send.wait_closed(),
        "recv_wait_closed": q_recv.wait_closed(),
        "session_wait_closed": session.wait_closed(),
    }
    futures: dict[str, asyncio.Future[Any]] = {
        name: asyncio.ensure_future(op) for name, op in ops.items()
    }
    await asyncio.wait_for(first_chunk.wait(), BOUND)
    await asyncio.sleep(0.3)  # let the write fill the peer's window
    done = [name for name, f in futures.items() if f.done()]
    assert not done, f"operations finished before the session ended: {done}"
    return futures


async def collect(futures: dict[str, asyncio.Future[Any]], bound: float) -> dict[str, Any]:
    """Wait (bounded) for every operation; hanging ones are reported as ``"HANG"``."""
    await asyncio.wait(futures.values(), timeout=bound)
    results: dict[str, Any] = {}
    for name, f in futures.items():
        if not f.done():
            f.cancel()
            results[name] = "HANG"
        elif f.exception() is not None:
            results[name] = f.exception()
        else:
            results[name] = ("ok", f.result())
    return results


async def run_in_process(certs: Cert, scenario: str) -> Outcome:
    """Scenarios (a), (b) and (d): both sides in this process."""
    transport = wt.TransportConfig(stream_receive_window=WINDOW, max_concurrent_bidi_streams=4)
    idle = IDLE if scenario == "idle_timeout" else 30.0
    server = certs.server(
        transport=transport,
        max_idle_timeout=idle,
    )
    relay = None
    port = server.local_addr[1]
    if scenario == "idle_timeout":
        relay = await start_relay(("127.0.0.1", port))
        port = relay.port
    client = wt.Client(server_certificate_hashes=[certs.hash], max_idle_timeout=idle)
    keep: list[Any] = []
    try:
        session, peer = await connect_pair(server, client, f"https://127.0.0.1:{port}/x")
        serving = asyncio.create_task(scripted_session(peer, keep))
        futures = await start_pending(session, keep)
        started = time.monotonic()
        if scenario == "local_close":
            session.close(5, "local")
        elif scenario == "peer_close":
            peer.close(7, "peer")
        else:
            assert relay is not None
            relay.cut = True
        results = await collect(futures, BOUND)
        elapsed = time.monotonic() - started
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(peer.wait_closed(), BOUND)
        serving.cancel()
        return Outcome(results, session.close_reason, elapsed, peer.close_reason)
    finally:
        client.close()
        server.close()
        if relay is not None:
            relay.close()


async def run_with_peer_process(certs: Cert, scenario: str) -> Outcome:
    """Scenarios (c) and (e): the peer is a server in a subprocess."""
    args = ["--idle", str(IDLE), "--stream-window", str(WINDOW), "--max-bidi", str(MAX_BIDI)]
    peer = Child.start("_peer.py", args)
    restarted: Child | None = None
    keep: list[Any] = []
    client: wt.Client | None = None
    try:
        hello = await peer.expect("port")
        port = hello["port"]
        client = wt.Client(
            server_certificate_hashes=[bytes.fromhex(hello["hash"])], max_idle_timeout=IDLE
        )
        session = await asyncio.wait_for(client.connect(f"https://127.0.0.1:{port}/x"), BOUND)
        futures = await start_pending(session, keep)
        started = time.monotonic()
        peer.kill()  # SIGKILL mid-transfer: the firehose is flowing, the write blocked
        await asyncio.to_thread(peer.proc.wait, BOUND)
        assert peer.proc.returncode == -signal.SIGKILL
        if scenario == "server_restart":
            restarted = Child.start("_peer.py", ["--port", str(port), *args])
            rehello = await restarted.expect("port")
            assert rehello["port"] == port
        results = await collect(futures, BOUND)
        elapsed = time.monotonic() - started
        if restarted is not None:
            # The new server on the same port works for new clients.
            async with wt.Client(server_certificate_hashes=[bytes.fromhex(rehello["hash"])]) as c2:
                fresh = await asyncio.wait_for(c2.connect(f"https://127.0.0.1:{port}/y"), BOUND)
                send, recv = await fresh.open_bi()
                await send.write(CMD_ECHO + b"again")
                await send.finish()
                assert await asyncio.wait_for(recv.read(), BOUND) == b"again"
                fresh.close()
        return Outcome(results, session.close_reason, elapsed)
    finally:
        if client is not None:
            client.close()
        peer.kill()
        peer.close()
        if restarted is not None:
            _rc, err = restarted.close()
            assert_clean_stderr(err)


_cache: dict[str, Outcome] = {}


async def outcome(certs: Cert, scenario: str) -> Outcome:
    """Run ``scenario`` once per test session (both tests below look at the result)."""
    if scenario not in _cache:
        if scenario in ("peer_sigkill", "server_restart"):
            _cache[scenario] = await run_with_peer_process(certs, scenario)
        else:
            _cache[scenario] = await run_in_process(certs, scenario)
    return _cache[scenario]


def describe(results: dict[str, Any]) -> str:
    return "\n".join(f"  {k}: {v!r}" for k, v in results.items())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_pending_operations_wake(certs: Cert, scenario: str) -> None:
    out = await outcome(certs, scenario)
    hung = [name for name, r in out.results.items() if r == "HANG"]
    assert not hung, f"{scenario}: still pending after {BOUND}s: {hung}\n{describe(out.results)}"
    for name, result in out.results.items():
        if name in ("session_wait_closed", "datagrams_iter"):
            # Never raises / ends the iteration.
            assert isinstance(result, tuple), f"{name}: {result!r}"
        elif name == "read_mid_transfer":
            assert isinstance(result, wt.SessionError), f"{name}: {result!r}"
        else:
            assert isinstance(result, wt.SessionError), f"{scenario}/{name}: {result!r}"
    assert isinstance(out.close_reason, wt.SessionError)
    assert out.elapsed < BOUND


def check_exception(scenario: str, e: object) -> bool:
    """Is ``e`` the documented exception for a session ended by ``scenario``?"""
    match scenario:
        case "local_close":
            return isinstance(e, wt.SessionClosedLocally)
        case "peer_close":
            return (
                isinstance(e, wt.SessionClosedByPeer)
                and e.source == "session"
                and e.code == 7
                and e.reason == "peer"
            )
        case "peer_sigkill":
            return isinstance(e, (wt.SessionTimeout, wt.SessionClosedByPeer))
        case "idle_timeout":
            return isinstance(e, wt.SessionTimeout)
        case "server_restart":
            return isinstance(e, wt.SessionTimeout) or (
                isinstance(e, wt.SessionClosedByPeer) and e.source == "connection-reset"
            )
    raise AssertionError(scenario)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "scenario",
    SCENARIOS,
)
async def test_pending_operations_raise_the_documented_exception(
    certs: Cert, scenario: str
) -> None:
    out = await outcome(certs, scenario)
    wrong = {
        name: r
        for name, r in out.results.items()
        if name not in ("session_wait_closed", "datagrams_iter")
        and not check_exception(scenario, r)
    }
    assert not wrong, f"{scenario}: unexpected exceptions:\n{describe(wrong)}"
    assert check_exception(scenario, out.close_reason), repr(out.close_reason)
    if scenario == "idle_timeout":
        # Both ends time out.
        assert isinstance(out.peer_close_reason, wt.SessionTimeout), out.peer_close_reason
