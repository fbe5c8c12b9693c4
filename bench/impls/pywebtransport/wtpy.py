"""Client and server for pywebtransport 0.21.1 (WebTransportServer / WebTransportClient)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import common
from pywebtransport import (
    ClientConfig,
    ServerConfig,
    WebTransportClient,
    WebTransportError,
    WebTransportServer,
)

LIMITS: dict[str, Any] = {
    "max_connections": 4000,
    "max_sessions": 4000,
    "initial_max_streams_bidi": 100,
}


def _spawn(tasks: set[Any], coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _handle_stream(stream: Any, mode: str, state: dict[str, int]) -> None:
    try:
        if mode == "sink":
            total = 0
            while chunk := await stream.read(max_size=common.READ_SIZE):
                total += len(chunk)
            await stream.write(data=total.to_bytes(8, "big"), end_stream=True)
        elif mode == "echo":
            await stream.write_all(data=await stream.read_all(), end_stream=True)
        else:
            await stream.read_all()
            await asyncio.sleep(0.2)
            reply = json.dumps({"received": state["datagrams"]}).encode()
            await stream.write(data=reply, end_stream=True)
    except WebTransportError:
        pass


async def _count_datagrams(session: Any, state: dict[str, int]) -> None:
    try:
        while True:
            await session.read_datagram()
            state["datagrams"] += 1
    except WebTransportError:
        pass


async def _run_session(session: Any, mode: str, state: dict[str, int], tasks: set[Any]) -> None:
    try:
        await session.accept()
    except WebTransportError:
        return
    if mode == "datagrams":
        _spawn(tasks, _count_datagrams(session, state))
    async for stream in session.incoming_bidirectional_streams():
        _spawn(tasks, _handle_stream(stream, mode, state))


async def _run_connection(conn: Any, mode: str, state: dict[str, int], tasks: set[Any]) -> None:
    async for session in conn.incoming_sessions():
        _spawn(tasks, _run_session(session, mode, state, tasks))


async def run_server(args: Any) -> None:
    mode = common.mode(args.workload)
    state = {"datagrams": 0}
    tasks: set[Any] = set()
    config = ServerConfig(
        certfile=args.cert,
        keyfile=args.key,
        bind_host="127.0.0.1",
        bind_port=args.port,
        **LIMITS,
    )
    async with WebTransportServer(config=config) as server:
        await server.listen()
        common.ready(args.port)
        async for conn in server.incoming_connections():
            _spawn(tasks, _run_connection(conn, mode, state, tasks))


async def _sink(session: Any, buf: bytes, size: int) -> int:
    stream = await session.create_bidirectional_stream()
    left = size
    while left > 0:
        n = min(left, len(buf))
        left -= n
        await stream.write(data=buf if n == len(buf) else buf[:n], end_stream=left == 0)
    return int.from_bytes(await stream.readexactly(size=8), "big")


async def _request(session: Any, data: bytes) -> bytes:
    stream = await session.create_bidirectional_stream()
    await stream.write(data=data, end_stream=True)
    return await stream.read_all()


async def _close(session: Any) -> None:
    await session.close()
    await session.connection.close()


async def _echo(session: Any, msg: bytes) -> None:
    """One request on a new stream; RuntimeError unless the reply is ``msg``."""
    if await _request(session, msg) != msg:
        raise RuntimeError("bad echo")


@contextlib.asynccontextmanager
async def _session(client: Any, url: str) -> AsyncIterator[Any]:
    """A new session; closed (session and connection) when the block ends normally."""
    session = await client.connect(url=url)
    yield session
    await _close(session)


async def run_client(args: Any) -> dict[str, Any]:
    w = args.workload
    url = f"https://127.0.0.1:{args.port}/bench"
    config = ClientConfig(verify_mode=ssl.CERT_NONE, **LIMITS)
    async with WebTransportClient(config=config) as client:
        if w == "W1":
            async with _session(client, url) as session:
                d = common.Deadline(0, 0)
                got = await _sink(session, bytes(common.WRITE_SIZE), args.size)
                dt = d.elapsed()
                if got != args.size:
                    raise RuntimeError(f"server counted {got} bytes")
            return {"value": got / dt / 2**20, "unit": "MiB/s", "bytes": got, "seconds": dt}
        if w == "W2":
            async with _session(client, url) as session:
                msg = b"B" * args.payload
                d = common.Deadline(args.duration, args.count)
                n = await d.repeat(lambda: _echo(session, msg))
                dt = d.elapsed()
            return common.rate("count", "round trips/s", n, dt)
        if w == "W3":
            async with _session(client, url) as session:
                msg = b"D" * args.payload
                d = common.Deadline(args.duration, args.count)
                sent = await d.repeat(lambda: session.send_datagram(data=msg))
                dt = d.elapsed()
                reply = json.loads(await _request(session, b"count"))
            received = reply["received"]
            out = common.rate("received", "datagrams/s", received, dt, sent=sent)
            out["loss"] = 1 - received / max(sent, 1)
            return out
        if w == "W4":

            async def one_session() -> None:
                async with _session(client, url) as session:
                    await _echo(session, b"x")

            d = common.Deadline(args.duration, args.count)
            n = await d.repeat(one_session)
            return common.rate("count", "sessions/s", n, d.elapsed())
        if w == "W5":
            async with _session(client, url) as session:
                buf = bytes(args.size)
                d = common.Deadline(0, 0)
                got = await asyncio.gather(
                    *(_sink(session, buf, args.size) for _ in range(args.streams))
                )
                dt = d.elapsed()
            return common.streams_rate(got, args.size, dt)
        if w == "W6":
            gate = asyncio.Semaphore(args.concurrency)

            async def one() -> Any:
                async with gate:
                    return await client.connect(url=url)

            d = common.Deadline(0, 0)
            sessions = await asyncio.gather(*(one() for _ in range(args.sessions)))
            dt = d.elapsed()
            await common.holding(len(sessions), args.hold)
            return {"value": len(sessions), "unit": "sessions", "connect_seconds": dt}
        raise ValueError(f"unknown workload {w}")
