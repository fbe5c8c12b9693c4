"""A WebTransport server in its own process, for tests that kill, restart or attack it.

Usage: ``python _peer.py [--port N] [--idle SECONDS] [--stream-window BYTES]
[--max-bidi N] [--handshake-timeout SECONDS] [--max-pending N]``.

Prints one JSON line ``{"port": N, "hash": HEX, "pid": PID}`` once listening, then
serves every session with :func:`_support.scripted_session` (the first byte of each
bidirectional stream selects echo, sink, firehose or quiet) and answers JSON commands on
stdin:

- ``{"cmd": "close", "code": C, "reason": R}``: close every session with ``C``/``R``;
- ``{"cmd": "stats"}``: print ``{"sessions": N, "open": N, "paths": [...], "rss_kb": K}``.

It exits when stdin reaches EOF.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys

import web_transport as wt

from tests.reliability._support import rss_kb, scripted_session
from tests.support.peers import Cert


def emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--stream-window", type=int, default=1_250_000)
    parser.add_argument("--max-bidi", type=int, default=100)
    parser.add_argument("--handshake-timeout", type=float, default=10.0)
    parser.add_argument("--max-pending", type=int, default=256)
    args = parser.parse_args()

    certs = Cert.generate()
    transport = wt.TransportConfig(
        stream_receive_window=args.stream_window,
        max_concurrent_bidi_streams=args.max_bidi,
    )
    server = wt.Server(
        certificate_chain=[certs.certificate],
        private_key=certs.private_key,
        bind=f"127.0.0.1:{args.port}",
        max_idle_timeout=args.idle,
        transport=transport,
        handshake_timeout=args.handshake_timeout,
        max_pending_handshakes=args.max_pending,
    )
    sessions: list[wt.Session] = []
    keep: list[object] = []
    tasks: set[asyncio.Task[None]] = set()

    async def serve() -> None:
        async for request in server:
            with contextlib.suppress(wt.SessionError):
                session = await request.accept()
                sessions.append(session)
                task = asyncio.create_task(scripted_session(session, keep))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    serving = asyncio.create_task(serve())
    emit({"port": server.local_addr[1], "hash": certs.hash.hex(), "pid": os.getpid()})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "close":
            for s in sessions:
                s.close(cmd.get("code", 0), cmd.get("reason", ""))
            emit({"closed": len(sessions)})
        elif cmd["cmd"] == "stats":
            emit(
                {
                    "sessions": len(sessions),
                    "open": sum(1 for s in sessions if s.close_reason is None),
                    "paths": [s.url for s in sessions],
                    "rss_kb": rss_kb(),
                }
            )
    server.close()
    serving.cancel()


if __name__ == "__main__":
    asyncio.run(main())
