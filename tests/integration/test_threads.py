"""Many threads at once (docs/architecture.md, "Free threading").

Runs on every build: on GIL builds it checks that nothing relies on one thread at a time
at the Python level; on free-threaded CPython (3.14t, where the release workflow runs it
against the cp314t wheel) the threads really run the binding in parallel, and
:func:`test_gil_stays_disabled_after_import` checks that importing the package leaves the
GIL disabled.

Each scenario runs in a child process (this file run as a script): a deadlock there
fails the test at the child's timeout instead of hanging the run. Every thread starts
behind a barrier, every wait is bounded, and nothing depends on timing: races are between
operations whose every interleaving has one allowed outcome (or one allowed exception).
Self-contained (no fixtures) so that cibuildwheel's test step can run it alone.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import queue
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import web_transport as wt

#: Multiplies every bound below, for slow runners (e.g. 5 under QEMU emulation in
#: cibuildwheel's test step); the counts stay the same.
SCALE = float(os.environ.get("WEB_TRANSPORT_TEST_TIMEOUT_SCALE", "1"))
#: Bound for any single wait inside a scenario.
WAIT = 20.0 * SCALE
#: Bound for one scenario's child process.
CHILD_TIMEOUT = 150.0 * SCALE
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

pytestmark = pytest.mark.timeout(CHILD_TIMEOUT + 30)


# ---------------------------------------------------------------------------------------
# Helpers (used in the child process).


class Cert:
    def __init__(self) -> None:
        self.certificate, self.private_key = wt.generate_self_signed(["localhost", "127.0.0.1"])
        self.hash = wt.certificate_hash(self.certificate)

    def server(self) -> wt.Server:
        return wt.Server(
            certificate_chain=[self.certificate],
            private_key=self.private_key,
            bind="127.0.0.1:0",
        )

    def client(self) -> wt.Client:
        return wt.Client(server_certificate_hashes=[self.hash])


def url(server: wt.Server) -> str:
    return f"https://127.0.0.1:{server.local_addr[1]}/"


def in_threads(bodies: list[Callable[[], Any]], timeout: float = WAIT * 4) -> list[Any]:
    """Run each body on its own thread, all released at once; their results, in order.
    The first exception of any body is raised here."""
    start = threading.Barrier(len(bodies))
    results: list[Any] = [None] * len(bodies)
    errors: list[BaseException] = []

    def run(i: int, body: Callable[[], Any]) -> None:
        try:
            start.wait(WAIT)
            results[i] = body()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, b), daemon=True) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"
    if errors:
        raise errors[0]
    return results


def run(start: Callable[[], Awaitable[Any]]) -> Any:
    """On a new event loop, await what ``start()`` returns (called on that loop: the
    package's methods bind to the loop running where they are called), bounded."""

    async def main() -> Any:
        return await asyncio.wait_for(start(), WAIT)

    return asyncio.run(main())


async def accept_one(server: wt.Server) -> wt.Session:
    request = await asyncio.wait_for(server.accept(), WAIT)
    assert request is not None
    return await asyncio.wait_for(request.accept(), WAIT)


async def connect_pair(server: wt.Server, client: wt.Client) -> tuple[wt.Session, wt.Session]:
    """A session (client side) and its peer (server side), both made on this loop."""
    connecting = asyncio.ensure_future(client.connect(url(server)))
    peer = await accept_one(server)
    return await asyncio.wait_for(connecting, WAIT), peer


async def echo_streams(session: wt.Session) -> None:
    """Serve: echo each bidirectional stream until the session ends."""
    async with asyncio.TaskGroup() as tasks:
        while True:
            try:
                send, recv = await session.accept_bi()
            except wt.SessionError:
                return

            async def echo(send: wt.SendStream = send, recv: wt.RecvStream = recv) -> None:
                await send.write(await asyncio.wait_for(recv.read(), WAIT))
                await send.finish()

            tasks.create_task(echo())


async def round_trip(session: wt.Session, payload: bytes) -> bytes:
    send, recv = await session.open_bi()
    await send.write(payload)
    await send.finish()
    return await asyncio.wait_for(recv.read(), WAIT)


# ---------------------------------------------------------------------------------------
# Scenarios (each a function of the child process; "OK" on stdout when it passed).


def scenario_loops(cert: Cert) -> None:
    """One event loop per thread, each with its own server, client and sessions."""
    threads, sessions, echoes = 6, 2, 3

    async def own(t: int) -> list[bytes]:
        got: list[bytes] = []
        async with cert.server() as server, cert.client() as client:
            for s in range(sessions):
                session, peer = await connect_pair(server, client)
                serving = asyncio.ensure_future(echo_streams(peer))
                for e in range(echoes):
                    got.append(await round_trip(session, b"%d.%d.%d" % (t, s, e)))
                session.close()
                await asyncio.wait_for(session.wait_closed(), WAIT)
                await asyncio.wait_for(serving, WAIT)
        return got

    results = in_threads([lambda t=t: asyncio.run(own(t)) for t in range(threads)])
    for t, got in enumerate(results):
        assert got == [b"%d.%d.%d" % (t, s, e) for s in range(sessions) for e in range(echoes)], got


def serve_from_threads(cert: Cert, acceptors: int) -> None:
    """One server accepting on ``acceptors`` threads' loops at once while other threads'
    loops connect; closed from a third thread."""
    clients, sessions, echoes = 5, 2, 3
    server = cert.server()  # made without a loop; served on the acceptor threads' loops
    served: queue.Queue[int] = queue.Queue()

    async def serve() -> None:
        async with asyncio.TaskGroup() as tasks:
            async for request in server:
                session = await asyncio.wait_for(request.accept(), WAIT)
                served.put(1)
                tasks.create_task(echo_streams(session))

    async def connect(c: int) -> list[bytes]:
        got = []
        async with cert.client() as client:
            for s in range(sessions):
                session = await asyncio.wait_for(client.connect(url(server)), WAIT)
                for e in range(echoes):
                    got.append(await round_trip(session, b"%d.%d.%d" % (c, s, e)))
                session.close()
                await asyncio.wait_for(session.wait_closed(), WAIT)
        return got

    server_threads = [
        threading.Thread(target=lambda: asyncio.run(serve()), daemon=True) for _ in range(acceptors)
    ]
    for t in server_threads:
        t.start()
    results = in_threads([lambda c=c: asyncio.run(connect(c)) for c in range(clients)])
    server.close()  # from this thread, while the server's loops await the next request
    for t in server_threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in server_threads), "a server loop outlived close()"
    assert served.qsize() == clients * sessions
    for c, got in enumerate(results):
        assert got == [b"%d.%d.%d" % (c, s, e) for s in range(sessions) for e in range(echoes)]


def scenario_one_server(cert: Cert) -> None:
    """One server accepting on its loop's thread while other threads' loops connect."""
    serve_from_threads(cert, acceptors=1)


def scenario_two_acceptors(cert: Cert) -> None:
    """One server whose requests two threads' loops accept at once."""
    serve_from_threads(cert, acceptors=2)


def scenario_handoff(cert: Cert) -> None:
    """Objects made on one thread's loop, used on others: sessions, streams, requests."""
    server, client = cert.server(), cert.client()
    # Thread 1's loop makes the session pair; its loop is gone when the others use them.
    session, peer = in_threads([lambda: asyncio.run(connect_pair(server, client))])[0]

    async def open_and_write() -> wt.RecvStream:
        send, recv = await session.open_bi()
        await send.write(b"across threads")
        await send.finish()
        return recv

    async def echo_one() -> None:
        send, recv = await asyncio.wait_for(peer.accept_bi(), WAIT)
        await send.write(await asyncio.wait_for(recv.read(), WAIT))
        await send.finish()

    # Thread 2 opens and writes, thread 3 echoes, thread 4 reads the stream thread 2 opened.
    recv, _ = in_threads([lambda: asyncio.run(open_and_write()), lambda: asyncio.run(echo_one())])
    got = in_threads([lambda: run(recv.read)])[0]
    assert got == b"across threads"

    # Closed from a thread without any event loop; waited for on yet another loop.
    session.close(7, "handed off")
    in_threads([lambda: run(peer.wait_closed)])
    assert isinstance(peer.close_reason, wt.SessionClosedByPeer)
    assert (peer.close_reason.code, peer.close_reason.reason) == (7, "handed off")
    client.close()
    server.close()


def scenario_races(cert: Cert) -> None:
    """Cancellation and close from other threads; concurrent calls on one object."""
    server, client = cert.server(), cert.client()
    session, peer = asyncio.run(connect_pair(server, client))

    # 1. A task awaiting accept_bi on thread A's loop, cancelled from this thread with
    #    call_soon_threadsafe: CancelledError there, and the stream that arrives after is
    #    still there for the next accept (nothing lost).
    ready = threading.Event()
    loop_of_a: list[asyncio.AbstractEventLoop] = []
    task_of_a: list[asyncio.Task[Any]] = []

    async def a() -> bytes:
        loop_of_a.append(asyncio.get_running_loop())
        task = asyncio.ensure_future(peer.accept_bi())
        task_of_a.append(task)
        ready.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, WAIT)
        # The opener (below) writes only after this cancellation was observed.
        opened.set()
        _send, recv = await asyncio.wait_for(peer.accept_bi(), WAIT)
        return await asyncio.wait_for(recv.read(), WAIT)

    opened = threading.Event()

    async def opener() -> None:
        assert opened.wait(WAIT)
        send, _ = await session.open_bi()
        await send.write(b"after the cancel")
        await send.finish()

    def cancel_from_here() -> None:
        assert ready.wait(WAIT)
        loop_of_a[0].call_soon_threadsafe(task_of_a[0].cancel)

    got, _, _ = in_threads(
        [lambda: asyncio.run(a()), lambda: asyncio.run(opener()), cancel_from_here]
    )
    assert got == b"after the cancel"

    # 2. Eight threads reset one SendStream at once: one resets, the others get
    #    StreamClosedLocally (never two RESET_STREAMs, never a crash).
    async def open_send() -> wt.SendStream:
        send, _ = await session.open_bi()
        await send.write(b"x")
        return send

    send = asyncio.run(open_send())

    def reset() -> str:
        try:
            send.reset(3)
        except wt.StreamClosedLocally:
            return "refused"
        return "reset"

    outcomes = in_threads([reset] * 8)
    assert sorted(outcomes) == ["refused"] * 7 + ["reset"], outcomes

    # 3. Two threads' loops accept one SessionRequest at once: one session, one error.
    async def connect_only() -> wt.Session:
        return await asyncio.wait_for(client.connect(url(server)), WAIT)

    async def next_request() -> wt.SessionRequest:
        request = await asyncio.wait_for(server.accept(), WAIT)
        assert request is not None
        return request

    connected: queue.Queue[wt.Session] = queue.Queue()
    connector = threading.Thread(
        target=lambda: connected.put(asyncio.run(connect_only())), daemon=True
    )
    connector.start()
    request = asyncio.run(next_request())

    async def accept_request() -> str:
        try:
            await asyncio.wait_for(request.accept(), WAIT)
        except wt.SessionClosedLocally:
            return "refused"
        return "accepted"

    accepted = in_threads([lambda: asyncio.run(accept_request())] * 2)
    connector.join(WAIT)
    assert sorted(accepted) == ["accepted", "refused"], accepted
    assert isinstance(connected.get(timeout=WAIT), wt.Session)

    # 4. Four threads send datagrams on one session at once: no error, and the drop count
    #    never exceeds what was sent.
    per_thread = 200

    def send_datagrams() -> None:
        for i in range(per_thread):
            session.send_datagram(b"%d" % i)

    in_threads([send_datagrams] * 4)
    assert 0 <= session.stats().datagrams_dropped_outgoing <= 4 * per_thread

    # 5. Reads pending on thread A's loop while eight other threads close the session:
    #    every read ends with a clear exception, every close returns.
    reading = threading.Event()

    async def pending_reads() -> list[str]:
        streams = [await session.open_bi() for _ in range(4)]
        for send, _ in streams:
            await send.write(b"?")
        reads = [asyncio.ensure_future(recv.read()) for _, recv in streams]
        await asyncio.sleep(0)
        reading.set()
        done = await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), WAIT)
        return [type(r).__name__ for r in done]

    def close_from_here() -> None:
        assert reading.wait(WAIT)
        session.close(0, "racing")

    results = in_threads([lambda: asyncio.run(pending_reads())] + [close_from_here] * 8)
    assert results[0] == ["SessionClosedLocally"] * 4, results[0]
    assert isinstance(session.close_reason, wt.SessionClosedLocally)

    # 6. Server and client closed from several threads at once, then waited for.
    in_threads([server.close, client.close] * 4)
    run(server.wait_closed)
    run(client.wait_closed)


SCENARIOS: dict[str, Callable[[Cert], None]] = {
    "loops": scenario_loops,
    "one_server": scenario_one_server,
    "two_acceptors": scenario_two_acceptors,
    "handoff": scenario_handoff,
    "races": scenario_races,
}


# ---------------------------------------------------------------------------------------
# The tests (parent process).


def run_child(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    try:
        return subprocess.run(
            [sys.executable, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the child did not finish within {CHILD_TIMEOUT} s: {e.stderr!r}")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_threads(scenario: str) -> None:
    out = run_child(str(Path(__file__).resolve()), scenario)
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stdout.splitlines()[-1:] == [f"OK {scenario} gil={sys_gil_word()}"], out.stdout


def sys_gil_word() -> str:
    """What the child reports for the GIL: disabled only on a free-threaded build."""
    return "disabled" if FREE_THREADED else "enabled"


def test_gil_stays_disabled_after_import() -> None:
    if not FREE_THREADED:
        pytest.skip(
            "GIL build: the GIL is always enabled here; on free-threaded CPython (3.14t) "
            "this checks that importing web_transport leaves it disabled"
        )
    # A fresh interpreter with nothing imported but the package (pytest's own plugins
    # could re-enable the GIL in this process); a module declaring that it needs the GIL
    # would re-enable it with a RuntimeWarning, an error here.
    code = "import sys, web_transport; print(sys._is_gil_enabled())"
    out = run_child("-W", "error::RuntimeWarning", "-c", code)
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stdout.strip() == "False"


def test_one_operation_driven_twice_at_once_raises_valueerror() -> None:
    """A second caller driving an ``Operation`` while the first is inside it (another
    thread on free-threaded CPython; here, deterministically, re-entry from the Python
    code the first call runs) gets CPython's error for a running coroutine, not PyO3's
    borrow error."""
    cert = Cert()
    server = cert.server()
    holder: dict[str, Any] = {}
    seen: list[str] = []

    class ReentrantFuture(asyncio.Future[Any]):
        def __await__(self) -> Any:
            try:
                holder["op"].send(None)
            except ValueError as e:
                seen.append(str(e))
            return super().__await__()

    class Loop(asyncio.SelectorEventLoop):
        def create_future(self) -> asyncio.Future[Any]:
            return ReentrantFuture(loop=self)

    async def main() -> None:
        op = server.accept()  # pending: nobody connects
        holder["op"] = op
        op.send(None)  # the first caller: inside it, the future's __await__ re-enters
        op.close()

    with asyncio.Runner(loop_factory=Loop) as runner:
        runner.run(main())
    server.close()
    assert seen == ["coroutine already executing"]


def child_main(name: str) -> None:
    faulthandler.dump_traceback_later(CHILD_TIMEOUT - 10, exit=True)
    SCENARIOS[name](Cert())
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"OK {name} gil={'enabled' if gil else 'disabled'}", flush=True)


if __name__ == "__main__":
    child_main(sys.argv[1])
