"""Processes for the load test. JSON lines on stdout, JSON commands on stdin.

``python _load.py server``
    An echo server on 127.0.0.1:0. Prints ``{"port", "hash", "pid"}``. Commands:
    ``{"cmd": "stats", "trim": bool}`` -> ``{"sessions_open", "sessions_total",
    "streams_open", "errors", "rss_kb", "hwm_kb"}``; with ``trim``, garbage-collect and
    ``malloc_trim(0)`` first. Exits on stdin EOF.

``python _load.py client URL HASH``
    Commands:
    ``{"cmd": "hold", "sessions": N, "stream_sessions": K, "streams": S}``: open N
    sessions at once (at most 64 handshakes in flight) and S streams on each of the first
    K, each stream echoing one chunk and staying open; reply ``{"held": N, "streams": M,
    "errors": [...]}``.
    ``{"cmd": "release"}``: finish every held stream (checking the echo to the end),
    close every session, reply ``{"released": N, "errors": [...]}``.
    ``{"cmd": "round", "sessions": N}``: open N sessions, echo once on each, close them
    all; reply ``{"round": N, "errors": [...]}``. Exits on stdin EOF.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import json
import os
import sys
from typing import Any

import web_transport as wt

from tests.reliability._support import proc_status_kb

CONNECTS_IN_FLIGHT = 64
LOAD_TRANSPORT = wt.TransportConfig(max_concurrent_bidi_streams=128)


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def commands() -> Any:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        yield json.loads(line)


# -- server ------------------------------------------------------------------------------


async def server() -> None:
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1"])
    srv = wt.Server(
        certificate_chain=[cert],
        private_key=key,
        bind="127.0.0.1:0",
        transport=LOAD_TRANSPORT,
        max_pending_handshakes=1024,
    )
    state = {"sessions_open": 0, "sessions_total": 0, "streams_open": 0, "errors": 0}
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Any) -> None:
        t = asyncio.create_task(coro)
        tasks.add(t)
        t.add_done_callback(tasks.discard)

    async def stream(send: wt.SendStream, recv: wt.RecvStream) -> None:
        state["streams_open"] += 1
        try:
            async for chunk in recv:
                await send.write(chunk)
            await send.finish()
        except wt.SessionError:
            pass  # the client closed the session under an open stream
        except Exception:
            state["errors"] += 1
        finally:
            state["streams_open"] -= 1

    async def session(request: wt.SessionRequest) -> None:
        try:
            s = await request.accept()
        except wt.SessionError:
            state["errors"] += 1
            return
        state["sessions_open"] += 1
        state["sessions_total"] += 1
        try:
            while True:
                send, recv = await s.accept_bi()
                spawn(stream(send, recv))
        except wt.SessionError:
            pass
        finally:
            state["sessions_open"] -= 1

    async def accept() -> None:
        async for request in srv:
            spawn(session(request))

    spawn(accept())
    emit({"port": srv.local_addr[1], "hash": wt.certificate_hash(cert).hex(), "pid": os.getpid()})
    async for cmd in commands():
        if cmd["cmd"] == "stats":
            if cmd.get("trim"):
                # Measure live memory, not what the allocators keep cached for reuse.
                gc.collect()
                with contextlib.suppress(OSError, AttributeError):
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
            pid = os.getpid()
            emit(
                {
                    **state,
                    "rss_kb": proc_status_kb(pid, "VmRSS"),
                    "hwm_kb": proc_status_kb(pid, "VmHWM"),
                }
            )
    srv.close()


# -- client ------------------------------------------------------------------------------


async def client(url: str, hash_hex: str) -> None:
    c = wt.Client(
        server_certificate_hashes=[bytes.fromhex(hash_hex)],
        transport=LOAD_TRANSPORT,
        max_idle_timeout=60.0,
    )
    gate = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
    held: list[wt.Session] = []
    streams: list[tuple[wt.SendStream, wt.RecvStream, bytes]] = []

    async def open_session(errors: list[str]) -> wt.Session | None:
        async with gate:
            try:
                return await asyncio.wait_for(c.connect(url), 60)
            except Exception as e:
                errors.append(f"connect: {e!r}")
                return None

    async def open_stream(s: wt.Session, tag: bytes, errors: list[str]) -> None:
        try:
            send, recv = await s.open_bi()
            await send.write(tag)
            got = await asyncio.wait_for(recv.readexactly(len(tag)), 60)
            if got != tag:
                errors.append(f"stream echo {got!r} != {tag!r}")
            streams.append((send, recv, tag))
        except Exception as e:
            errors.append(f"stream: {e!r}")

    async for cmd in commands():
        errors: list[str] = []
        if cmd["cmd"] == "hold":
            opened = await asyncio.gather(*(open_session(errors) for _ in range(cmd["sessions"])))
            held.extend(s for s in opened if s is not None)
            await asyncio.gather(
                *(
                    open_stream(s, b"s%d-%d;" % (i, j), errors)
                    for i, s in enumerate(held[: cmd["stream_sessions"]])
                    for j in range(cmd["streams"])
                )
            )
            emit({"held": len(held), "streams": len(streams), "errors": errors[:20]})
        elif cmd["cmd"] == "release":

            async def finish(
                send: wt.SendStream, recv: wt.RecvStream, tag: bytes, errors: list[str] = errors
            ) -> None:
                try:
                    await send.write(b"bye")
                    await send.finish()
                    rest = await asyncio.wait_for(recv.read(), 60)
                    if rest != b"bye":
                        errors.append(f"tail {rest!r}")
                except Exception as e:
                    errors.append(f"finish: {e!r}")

            await asyncio.gather(*(finish(*s) for s in streams))
            for s in held:
                s.close()
            await asyncio.gather(*(asyncio.wait_for(s.wait_closed(), 60) for s in held))
            emit({"released": len(held), "errors": errors[:20]})
            held.clear()
            streams.clear()
        elif cmd["cmd"] == "round":

            async def one(errors: list[str] = errors) -> None:
                s = await open_session(errors)
                if s is None:
                    return
                try:
                    send, recv = await s.open_bi()
                    await send.write(b"round")
                    await send.finish()
                    if await asyncio.wait_for(recv.read(), 60) != b"round":
                        errors.append("round echo")
                except Exception as e:
                    errors.append(f"round: {e!r}")
                finally:
                    s.close()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(s.wait_closed(), 60)

            await asyncio.gather(*(one() for _ in range(cmd["sessions"])))
            emit({"round": cmd["sessions"], "errors": errors[:20]})
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(server())
    else:
        asyncio.run(client(sys.argv[2], sys.argv[3]))
