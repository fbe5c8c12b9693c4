"""One interpreter run for the clean-exit test: ``python _exit_child.py SCENARIO``.

Opens a server and a client in this process, exchanges data on a stream and a datagram,
prints ``EXCHANGED``, then ends the way SCENARIO says (see ``SCENARIOS`` in
``test_clean_exit.py`` for the expected exit codes).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys
import threading
import time
from typing import Any

import web_transport as wt

from tests.reliability._support import (
    CMD_ECHO,
    CMD_FIREHOSE,
    CMD_QUIET,
    CMD_SINK,
    open_scripted,
    scripted_session,
)
from tests.support.peers import Cert

KEEP: list[Any] = []  # objects deliberately left alive at exit


async def setup() -> tuple[wt.Server, wt.Client, wt.Session, asyncio.Task[None]]:
    certs = Cert.generate()
    server = certs.server()

    async def serve() -> None:
        async for request in server:
            session = await request.accept()
            KEEP.append(asyncio.create_task(scripted_session(session, KEEP)))

    serving = asyncio.create_task(serve())
    client = wt.Client(server_certificate_hashes=[certs.hash])
    session = await client.connect(f"https://127.0.0.1:{server.local_addr[1]}/exit")
    send, recv = await session.open_bi()
    await send.write(CMD_ECHO + b"hello" * 1000)
    await send.finish()
    assert await recv.read() == b"hello" * 1000
    print("EXCHANGED", flush=True)
    return server, client, session, serving


async def start_traffic(session: wt.Session) -> list[asyncio.Task[Any]]:
    """Leave a firehose read, a flow-blocked write and accept/datagram waits running."""
    streams = await open_scripted(session, CMD_FIREHOSE, CMD_SINK, CMD_QUIET)
    (f_send, f_recv), (k_send, _k_recv), (q_send, q_recv) = streams
    KEEP.extend([f_send, f_recv, k_send, _k_recv, q_send, q_recv])

    async def firehose() -> None:
        while await f_recv.read(65536):
            pass

    async def blocked_write() -> None:
        while True:
            await k_send.write(b"x" * (1 << 20))

    tasks = [
        asyncio.create_task(firehose()),
        asyncio.create_task(blocked_write()),
        asyncio.create_task(q_recv.read()),
        asyncio.create_task(session.accept_bi()),
        asyncio.create_task(session.accept_uni()),
        asyncio.create_task(session.receive_datagram()),
    ]
    KEEP.extend(tasks)
    await asyncio.sleep(0.05)
    return tasks


async def close_first() -> None:
    server, client, session, serving = await setup()
    session.close(0, "bye")
    await session.wait_closed()
    client.close()
    await client.wait_closed()
    server.close()
    await server.wait_closed()
    serving.cancel()


async def no_close() -> None:
    _server, _client, session, _serving = await setup()
    KEEP.extend([_server, _client, session, _serving])


async def pending_tasks() -> None:
    _server, _client, session, _serving = await setup()
    KEEP.extend([_server, _client, session, _serving])
    await start_traffic(session)
    # Return with every task still pending: asyncio.run cancels them.


async def sys_exit_mid_read() -> None:
    _server, _client, session, _serving = await setup()
    KEEP.extend([_server, _client, session, _serving])
    await start_traffic(session)
    await asyncio.sleep(0.05)
    sys.exit(3)


async def exception_mid_transfer() -> None:
    _server, _client, session, _serving = await setup()
    KEEP.extend([_server, _client, session, _serving])
    await start_traffic(session)
    raise RuntimeError("boom")


async def sigint_mid_transfer() -> None:
    _server, _client, session, _serving = await setup()
    KEEP.extend([_server, _client, session, _serving])
    await start_traffic(session)
    signal.raise_signal(signal.SIGINT)
    await asyncio.sleep(5)


async def gc_mid_transfer() -> None:
    server, client, session, serving = await setup()
    await start_traffic(session)
    KEEP.clear()
    del server, client, session, serving
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0.02)


def loop_never_closed() -> None:
    loop = asyncio.new_event_loop()

    async def main() -> None:
        _server, _client, session, _serving = await setup()
        KEEP.extend([_server, _client, session, _serving])
        await start_traffic(session)

    loop.run_until_complete(main())
    KEEP.append(loop)  # never closed, tasks still pending


def daemon_thread_loop() -> None:
    exchanged = threading.Event()

    def run() -> None:
        async def main() -> None:
            _server, _client, session, _serving = await setup()
            KEEP.extend([_server, _client, session, _serving])
            await start_traffic(session)
            exchanged.set()
            await asyncio.sleep(3600)

        asyncio.run(main())

    threading.Thread(target=run, daemon=True).start()
    if not exchanged.wait(60):
        sys.exit(10)
    time.sleep(0.05)
    # The main thread exits while the loop thread still moves data.


def daemon_threads_busy() -> None:
    """Several daemon threads, each with its own loop, in tight echo loops (many calls
    into the binding that run Python callbacks) while the main thread exits."""
    ready = threading.Barrier(5)

    def run() -> None:
        async def main() -> None:
            _server, _client, session, _serving = await setup()
            KEEP.extend([_server, _client, session, _serving])
            send, recv = await session.open_bi()
            await send.write(CMD_ECHO)
            KEEP.extend([send, recv])
            await asyncio.to_thread(ready.wait, 60)
            while True:
                await send.write(b"ping")
                await recv.readexactly(4)
                session.send_datagram(b"d")

        asyncio.run(main())

    for _ in range(4):
        threading.Thread(target=run, daemon=True).start()
    ready.wait(60)
    time.sleep(0.05)


def daemon_threads_switching() -> None:
    """``daemon_threads_busy`` with the GIL handed over every 10 µs: the daemon threads
    then often yield the GIL inside Python code the binding called (``set_result`` ->
    ``loop.call_soon``) just as the main thread finalizes. CPython 3.12/3.13 end such a
    thread with ``pthread_exit``, and an unwind through the binding's frames aborted the
    process (SIGABRT in about 1 run in 5 before ``shutdown.rs``)."""
    sys.setswitchinterval(1e-5)
    daemon_threads_busy()


ASYNC = {
    "close_first": close_first,
    "no_close": no_close,
    "pending_tasks": pending_tasks,
    "sys_exit_mid_read": sys_exit_mid_read,
    "exception_mid_transfer": exception_mid_transfer,
    "sigint_mid_transfer": sigint_mid_transfer,
    "gc_mid_transfer": gc_mid_transfer,
}
SYNC = {
    "loop_never_closed": loop_never_closed,
    "daemon_thread_loop": daemon_thread_loop,
    "daemon_threads_busy": daemon_threads_busy,
    "daemon_threads_switching": daemon_threads_switching,
}

if __name__ == "__main__":
    # Children of a non-interactive shell's background job inherit SIGINT ignored;
    # the SIGINT scenario needs Python's default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    scenario = sys.argv[1]
    if scenario in ASYNC:
        with contextlib.nullcontext():
            asyncio.run(ASYNC[scenario]())
    else:
        SYNC[scenario]()
