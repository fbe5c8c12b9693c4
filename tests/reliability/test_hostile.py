"""Hostile peers cannot crash the server or starve its other sessions.

The server runs in its own process (``_peer.py``); a raw QUIC/HTTP/3 peer built on
aioquic's low-level API attacks it while a normal "bystander" session keeps echoing:

- CONNECT requests that are not WebTransport (wrong or missing ``:protocol``, wrong
  method or scheme, no authority) never become sessions;
- garbage on an accepted session's CONNECT stream (unknown or truncated capsules,
  a lying DATA frame, non-frame bytes, a megabyte of junk capsules);
- a 1 MiB header block (64 fields of 16 KiB);
- many streams at once (CI 1,000, full 10,000), both within the server's stream limit
  (all echoed) and ignoring it (the offending connection is closed);
- a handshake that never completes (one Initial, then silence): dropped after
  ``handshake_timeout``; with ``max_pending_handshakes=2`` a third concurrent pending
  handshake is refused, and a normal client succeeds once the pending ones time out.

After every attack the server process is alive, the bystander echoes, and a brand-new
client connects and echoes within a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import pytest
import web_transport as wt

from ._hostile import (
    SilentInitial,
    capsule,
    connect_headers,
    raw_peer,
)
from ._support import BOUND, CMD_ECHO, FULL, Child, assert_clean_stderr, scale, write_result

pytestmark = pytest.mark.timeout(180)


@dataclass
class Target:
    """The server under attack (a subprocess) and a bystander session to it."""

    child: Child
    port: int
    hash: bytes
    client: wt.Client
    bystander: wt.Session

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/bystander"

    async def echo(self, session: wt.Session, payload: bytes) -> bytes:
        send, recv = await session.open_bi()
        await send.write(CMD_ECHO + payload)
        await send.finish()
        return await recv.read()

    async def fresh_echo(self, payload: bytes = b"fresh") -> bytes:
        async with wt.Client(server_certificate_hashes=[self.hash]) as client:
            session = await asyncio.wait_for(
                client.connect(f"https://127.0.0.1:{self.port}/fresh"), BOUND
            )
            got = await asyncio.wait_for(self.echo(session, payload), BOUND)
            session.close()
            return got

    async def stats(self) -> dict[str, object]:
        self.child.send({"cmd": "stats"})
        return await self.child.expect("sessions")

    async def assert_healthy(self) -> None:
        """Alive, the bystander echoes, a new client echoes."""
        assert self.child.proc.poll() is None, "the server process died"
        got = await asyncio.wait_for(self.echo(self.bystander, b"bystander"), BOUND)
        assert got == b"bystander"
        assert await self.fresh_echo() == b"fresh"


@contextlib.asynccontextmanager
async def target(*args: str) -> AsyncGenerator[Target, None]:
    child = Child.start("_peer.py", list(args))
    client: wt.Client | None = None
    try:
        hello = await child.expect("port")
        h = bytes.fromhex(hello["hash"])
        client = wt.Client(server_certificate_hashes=[h])
        bystander = await asyncio.wait_for(
            client.connect(f"https://127.0.0.1:{hello['port']}/bystander"), BOUND
        )
        t = Target(child, hello["port"], h, client, bystander)
        await t.assert_healthy()
        yield t
        await t.assert_healthy()
    finally:
        if client is not None:
            client.close()
        rc, err = child.close()
        assert_clean_stderr(err)
        assert rc == 0, f"server exited with {rc}: {err[-2000:]}"


async def keep_echoing(t: Target, stop: asyncio.Event) -> int:
    """Echo on the bystander until ``stop``; return the number of echoes (each bounded)."""
    n = 0
    while not stop.is_set():
        got = await asyncio.wait_for(t.echo(t.bystander, b"%d" % n), BOUND)
        assert got == b"%d" % n
        n += 1
        await asyncio.sleep(0.01)
    return n


# -- CONNECT requests that are not WebTransport -----------------------------------------

BAD_CONNECTS = {
    "wrong :protocol": {":protocol": b"websocket"},
    "no :protocol (plain CONNECT)": {":protocol": b""},
    "wrong :method": {":method": b"GET"},
    "wrong :scheme": {":scheme": b"http"},
    "empty :authority": {":authority": b""},
    "empty :path": {":path": b""},
}


@pytest.mark.parametrize("variant", list(BAD_CONNECTS))
async def test_non_webtransport_connect_is_refused(variant: str) -> None:
    async with target() as t:
        before = (await t.stats())["sessions"]
        async with raw_peer(t.port) as peer:
            overrides = BAD_CONNECTS[variant]
            headers = [
                (name, value)
                for name, value in connect_headers(t.port, **{})
                if not (name.decode() in overrides and overrides[name.decode()] == b"")
            ]
            headers = [
                (name, overrides.get(name.decode(), value) or value) for name, value in headers
            ]
            stream_id = peer.request(headers)
            status = await peer.status(stream_id, 10.0)
            assert status != 200, f"{variant}: accepted with {status}"
        # It never became a session.
        assert (await t.stats())["sessions"] == before


# -- garbage on the CONNECT stream of an accepted session --------------------------------

GARBAGE = {
    "unknown capsule": capsule(0x17A5, os.urandom(1024)),
    "truncated close capsule": capsule(0x2843, b"\x00\x01"),
    "close capsule with a 1 MiB reason": capsule(0x2843, b"\x00\x00\x00\x01" + b"r" * (1 << 20)),
    "DATA frame longer than what follows, then FIN": b"\x00\x40\xff" + b"short",
    "bytes that are not HTTP/3 frames": os.urandom(4096),
    "1 MiB of unknown capsules": b"".join(capsule(0x2A + i, b"j" * 1000) for i in range(1000)),
}


@pytest.mark.parametrize("variant", list(GARBAGE))
async def test_garbage_on_the_connect_stream(variant: str) -> None:
    async with target() as t, raw_peer(t.port) as peer:
        stream_id = peer.request(connect_headers(t.port))
        assert await peer.status(stream_id, BOUND) == 200
        peer.send_raw(stream_id, GARBAGE[variant], end=variant.endswith("FIN"))
        # Give the server time to chew on it while the bystander keeps working.
        stop = asyncio.Event()
        echoing = asyncio.create_task(keep_echoing(t, stop))
        await peer.until(lambda: False, 1.0)
        stop.set()
        assert await echoing > 0


async def test_oversized_header_block() -> None:
    async with target() as t:
        before = (await t.stats())["sessions"]
        async with raw_peer(t.port) as peer:
            # 1 MiB in all (aioquic's QPACK encoder caps a single value's length).
            big = [(b"x-huge-%d" % i, b"h" * 16384) for i in range(64)]
            headers = [*connect_headers(t.port), *big]
            stream_id = peer.request(headers)
            status = await peer.status(stream_id, 10.0)
            assert status != 200
        assert (await t.stats())["sessions"] == before


# -- many streams ---------------------------------------------------------------------------


async def test_many_streams_within_the_limit_are_all_served() -> None:
    count = scale(1000, 10000)
    async with target("--max-bidi", "100") as t, raw_peer(t.port) as peer:
        session_id = peer.request(connect_headers(t.port))
        assert await peer.status(session_id, BOUND) == 200
        streams = [peer.open_wt_stream(session_id, CMD_ECHO + b"%d" % i) for i in range(count)]
        peer.transmit()
        stop = asyncio.Event()
        echoing = asyncio.create_task(keep_echoing(t, stop))
        started = time.monotonic()
        done = await peer.until(lambda: len(peer.raw_fin) == count, BOUND * (20 if FULL else 4))
        seconds = time.monotonic() - started
        stop.set()
        echoes = await echoing
        assert echoes > 0  # the bystander was served meanwhile
        assert done, f"{len(peer.raw_fin)} of {count} streams echoed"
        exact = sum(peer.raw[sid] == b"%d" % i for i, sid in enumerate(streams))
        if FULL:
            write_result(
                "hostile_many_streams_full.json",
                {
                    "test": "test_hostile.py::test_many_streams_within_the_limit_are_all_served",
                    "streams": count,
                    "echoed_exactly": exact,
                    "seconds": round(seconds, 1),
                    "bystander_echoes_meanwhile": echoes,
                    "passed": exact == count,
                },
            )
        assert exact == count


async def test_many_streams_beyond_the_limit_close_only_that_connection() -> None:
    count = scale(1000, 10000)
    async with target("--max-bidi", "100") as t, raw_peer(t.port) as peer:
        session_id = peer.request(connect_headers(t.port))
        assert await peer.status(session_id, BOUND) == 200
        peer.ignore_stream_limit()
        for i in range(count):
            peer.open_wt_stream(session_id, CMD_ECHO + b"%d" % i)
        peer.transmit()
        await peer.until(lambda: False, BOUND)
        assert peer.terminated is not None, "the server tolerated a stream-limit violation"
        assert peer.terminated.error_code == 0x4  # STREAM_LIMIT_ERROR (RFC 9000 §20.1)


# -- handshakes that never complete -------------------------------------------------------


async def connect_when_possible(t: Target) -> float:
    """Retry a normal client (bounded) until it connects and echoes; return the seconds
    it took. Refused attempts fail fast with ConnectError."""
    started = time.monotonic()
    while time.monotonic() - started < BOUND:
        try:
            assert await t.fresh_echo(b"through") == b"through"
            return time.monotonic() - started
        except wt.ConnectError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no client could connect within {BOUND}s")


async def assert_refused(t: Target) -> None:
    async with wt.Client(server_certificate_hashes=[t.hash], max_idle_timeout=5.0) as c:
        with pytest.raises(wt.ConnectError):
            await asyncio.wait_for(c.connect(t.url), BOUND)


async def test_a_handshake_that_never_completes_is_dropped_after_handshake_timeout() -> None:
    timeout = 3.0
    async with target("--handshake-timeout", str(timeout), "--max-pending", "1") as t:
        started = time.monotonic()
        silent = SilentInitial(t.port)
        try:
            await silent.listen(0.3)
            assert silent.received > 0, "the server never answered the Initial"
            assert silent.terminated is None
            # It holds the only handshake slot: a normal client is refused...
            await assert_refused(t)
            # ...until the silent handshake is dropped by handshake_timeout.
            await connect_when_possible(t)
            assert time.monotonic() - started >= timeout * 0.9  # not before the timeout
        finally:
            silent.close()


async def test_max_pending_handshakes_refuses_extra_then_recovers() -> None:
    timeout = 5.0
    async with target("--handshake-timeout", str(timeout), "--max-pending", "2") as t:
        silents = [SilentInitial(t.port), SilentInitial(t.port)]
        try:
            for s in silents:
                await s.listen(0.3)
                assert s.received > 0  # the server answered...
                assert s.terminated is None  # ...and the handshake is pending
            third = SilentInitial(t.port)
            silents.append(third)
            await third.listen(BOUND)
            assert third.refused, f"third pending handshake not refused: {third.terminated}"
            # A normal client is refused too while two handshakes are pending...
            await assert_refused(t)
            # ...and succeeds once they time out.
            await connect_when_possible(t)
        finally:
            for s in silents:
                s.close()
