"""How completions reach the event loop (src/completion.rs) and the runtime's size
(src/runtime.rs): a socketpair registered with ``loop.add_reader`` per loop, released
when the loop closes; ``call_soon_threadsafe`` for loops without ``add_reader``; the
``WEB_TRANSPORT_WORKER_THREADS`` setting."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import web_transport as wt

from .conftest import WAIT

pytestmark = pytest.mark.timeout(120)


async def echo_round_trips(cert: Any, n: int) -> list[bytes]:
    """Start a server and a client on this loop; ``n`` stream echoes, each needing the
    slow path (the server's accept and the client's read wait for the network)."""
    got: list[bytes] = []
    async with (
        wt.Server(
            certificate_chain=[cert.certificate], private_key=cert.private_key, bind="127.0.0.1:0"
        ) as server,
        wt.Client(server_certificate_hashes=[cert.hash]) as client,
    ):
        url = f"https://127.0.0.1:{server.local_addr[1]}/"
        connecting = asyncio.ensure_future(client.connect(url))
        request = await asyncio.wait_for(server.accept(), WAIT)
        assert request is not None
        peer = await asyncio.wait_for(request.accept(), WAIT)
        session = await asyncio.wait_for(connecting, WAIT)
        for i in range(n):
            accepting = asyncio.ensure_future(peer.accept_bi())
            send, recv = await session.open_bi()
            await send.write(b"m%d" % i)
            await send.finish()
            psend, precv = await asyncio.wait_for(accepting, WAIT)
            await psend.write(await asyncio.wait_for(precv.read(), WAIT))
            await psend.finish()
            got.append(await asyncio.wait_for(recv.read(), WAIT))
        session.close()
        await asyncio.wait_for(session.wait_closed(), WAIT)
    return got


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a new thread (no event loop running there) and return its result."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # re-raised below, on the caller's thread
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join(WAIT * 4)
    assert not t.is_alive(), "the event loop thread did not finish"
    if "error" in out:
        raise out["error"]
    return out["value"]


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(sys.platform != "linux", reason="counts descriptors in /proc/self/fd")
def test_each_loop_releases_its_wake_socket_when_closed(self_signed_cert: Any) -> None:
    expected = [b"m%d" % i for i in range(3)]
    # One loop first, so lazily opened process-wide descriptors exist before counting.
    assert in_thread(lambda: asyncio.run(echo_round_trips(self_signed_cert, 3))) == expected
    gc.collect()
    before = open_fds()
    for _ in range(8):
        assert in_thread(lambda: asyncio.run(echo_round_trips(self_signed_cert, 3))) == expected
    gc.collect()
    leaked = open_fds() - before
    assert not leaked, f"descriptors left open by closed loops: {sorted(leaked)}"


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop without ``add_reader``, as the Windows proactor loop is."""

    readers_refused = 0

    def add_reader(self, fd: Any, callback: Any, *args: Any) -> None:  # type: ignore[override]
        NoReaderLoop.readers_refused += 1
        raise NotImplementedError


def test_loops_without_add_reader_are_woken_threadsafe(self_signed_cert: Any) -> None:
    NoReaderLoop.readers_refused = 0

    def run() -> list[bytes]:
        with asyncio.Runner(loop_factory=NoReaderLoop) as runner:
            return runner.run(echo_round_trips(self_signed_cert, 5))

    assert in_thread(run) == [b"m%d" % i for i in range(5)]
    assert NoReaderLoop.readers_refused >= 1  # the binding tried, then fell back


# Counts the runtime's threads once every thread but the main one has its name (a new
# thread names itself once it runs: bounded wait, not a fixed sleep).
WORKERS = """
import asyncio, os, web_transport as wt
def names():
    return [open(f"/proc/self/task/{t}/comm").read().strip()
            for t in sorted(os.listdir("/proc/self/task"), key=int)][1:]
async def main():
    async with wt.Server(certificate_chain=[CERT], private_key=KEY, bind="127.0.0.1:0"):
        for _ in range(500):
            # A new thread is named by itself once it runs; before the first worker
            # exists the list is empty, and all() of nothing is True.
            current = names()
            if current and all(n == "web-transport" for n in current):
                break
            await asyncio.sleep(0.01)
        print(sum(n == "web-transport" for n in names()))
asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads thread names from /proc")
@pytest.mark.parametrize(("setting", "expected"), [(None, 1), ("3", 3), ("0", 1), ("many", 1)])
def test_worker_threads_setting(self_signed_cert: Any, setting: str | None, expected: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WEB_TRANSPORT_WORKER_THREADS"}
    if setting is not None:
        env["WEB_TRANSPORT_WORKER_THREADS"] = setting
    code = f"CERT = {self_signed_cert.certificate!r}\nKEY = {self_signed_cert.private_key!r}\n"
    out = subprocess.run(
        [sys.executable, "-c", code + WORKERS],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(out.stdout.strip()) == expected


# Several loop threads whose first pending operations start together, in a child process:
# a deadlock there holds the GIL, so in this process it would hang the test run instead
# of failing it.
SEVERAL_THREADS = """
import asyncio, sys, threading, types
from tests.integration.test_event_loops import echo_round_trips
cert = types.SimpleNamespace(certificate=CERT, private_key=KEY, hash=HASH)
threads = 4
for _ in range(3):
    start = threading.Barrier(threads)
    results = [None] * threads
    def run(i):
        start.wait(30)
        results[i] = asyncio.run(echo_round_trips(cert, 2))
    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert results == [[b"m0", b"m1"]] * threads, results
print("ALL ECHOED")
"""


def test_loops_on_several_threads_start_together(self_signed_cert: Any) -> None:
    """Each thread's first pending operation registers its loop's wake-up socket at the
    same moment (regression: a thread held the map of queues while the registration
    released the GIL, and another thread holding the GIL waited for the map)."""
    root = Path(__file__).resolve().parents[2]
    code = (
        f"CERT = {self_signed_cert.certificate!r}\n"
        f"KEY = {self_signed_cert.private_key!r}\nHASH = {self_signed_cert.hash!r}\n"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code + SEVERAL_THREADS],
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "PYTHONPATH": str(root)},  # `tests` is importable
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a loop thread deadlocked: the child did not finish within 90 s")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ALL ECHOED"
