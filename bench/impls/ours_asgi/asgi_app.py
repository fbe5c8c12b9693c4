"""The ASGI application of the ``ours_asgi`` benchmark server (see server.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import common
import web_transport as wt
from web_transport import asgi

RECEIVE = "webtransport.stream.receive"
DATAGRAM = "webtransport.datagram.receive"
SEND = "webtransport.stream.send"


def make_app(mode: str) -> Any:
    """``sink``: count each stream's bytes, answer the count (8 bytes) and end the
    stream; ``echo``: send each stream's bytes back once it ended, and end it;
    ``datagrams``: count datagrams, answer any stream (after 200 ms) with the count."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "webtransport":
            return
        await receive()
        await send({"type": "webtransport.accept"})
        held: dict[int, Any] = {}
        counted = {"datagrams": 0}
        replies: set[asyncio.Task[None]] = set()
        while True:
            event = await receive()
            kind = event["type"]
            if kind == RECEIVE:
                sid = event["stream"]
                if mode == "sink":
                    held[sid] = held.get(sid, 0) + len(event["data"])
                    if event["end_stream"]:
                        count = held.pop(sid).to_bytes(8, "big")
                        await send({"type": SEND, "stream": sid, "data": count, "end_stream": True})
                elif mode == "echo":
                    if not event["end_stream"]:
                        held[sid] = held.get(sid, b"") + event["data"]
                        continue
                    data = held.pop(sid, b"") + event["data"]
                    await send({"type": SEND, "stream": sid, "data": data, "end_stream": True})
                elif event["end_stream"]:
                    task = asyncio.ensure_future(answer(send, sid, counted))
                    replies.add(task)
                    task.add_done_callback(replies.discard)
            elif kind == DATAGRAM:
                counted["datagrams"] += 1
            elif kind == "webtransport.disconnect":
                return

    return app


async def answer(send: Any, sid: int, counted: dict[str, int]) -> None:
    await asyncio.sleep(0.2)
    reply = json.dumps({"received": counted["datagrams"], "api": "asgi"}).encode()
    await send({"type": SEND, "stream": sid, "data": reply, "end_stream": True})


async def serve(args: Any) -> None:
    def der(path: str) -> bytes:
        return Path(path).with_suffix(".der").read_bytes()

    server = wt.Server(
        certificate_chain=[der(args.cert)],
        private_key=der(args.key),
        bind=f"127.0.0.1:{args.port}",
    )
    # The same read size as the direct servers' read loop (common.READ_SIZE).
    config = asgi.Config(lifespan="off", read_size=common.READ_SIZE)
    async with server:
        common.ready(server.local_addr[1])
        await asgi.serve(make_app(common.mode(args.workload)), server, config)


def server_main() -> None:
    common.server_main(serve)
