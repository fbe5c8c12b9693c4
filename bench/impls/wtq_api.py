"""Client and server for the ``web_transport`` API shared by ours and PyPI web-transport-quinn.

Both packages import as ``web_transport`` with the same core API (ours is a superset), so
``ours/`` and ``pypi_wtq/`` run this code in their own virtual environments. ``flavor``
selects the few differences: ours has ``send_datagram_wait`` (backpressure) and
``session.stats()``; PyPI 0.1.0 has only the dropping ``send_datagram``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import common
import web_transport as wt


def _der(pem_path: str) -> bytes:
    return Path(pem_path).with_suffix(".der").read_bytes()


# ---------------------------------------------------------------------------------------
# Server


async def _handle_stream(send: Any, recv: Any, mode: str, state: dict[str, Any]) -> None:
    try:
        if mode == "sink":
            total = 0
            while chunk := await recv.read(common.READ_SIZE):
                total += len(chunk)
            await send.write(total.to_bytes(8, "big"))
        elif mode == "echo":
            await send.write(await recv.read())
        else:
            await recv.read()
            await asyncio.sleep(0.2)
            reply: dict[str, Any] = {"received": state["datagrams"], "api": state.get("api")}
            session = state.get("session")
            if session is not None and hasattr(session, "stats"):
                st = session.stats()
                reply["dropped_incoming"] = st.datagrams_dropped_incoming
            await send.write(json.dumps(reply).encode())
        await send.finish()
    except wt.WebTransportError:
        pass


async def _count_datagrams(session: Any, state: dict[str, Any]) -> None:
    try:
        if hasattr(session, "receive_datagrams"):
            # Ours (newer builds): one await per burst of queued datagrams.
            state["api"] = "receive_datagrams"
            while True:
                state["datagrams"] += len(await session.receive_datagrams(256))
        state["api"] = "receive_datagram"
        while True:
            await session.receive_datagram()
            state["datagrams"] += 1
    except wt.WebTransportError:
        pass


async def _run_session(request: Any, mode: str, state: dict[str, Any], tasks: set[Any]) -> None:
    try:
        session = await request.accept()
    except wt.WebTransportError:
        return
    state["session"] = session
    if mode == "datagrams":
        _spawn(tasks, _count_datagrams(session, state))
    while True:
        try:
            send, recv = await session.accept_bi()
        except wt.WebTransportError:
            return
        _spawn(tasks, _handle_stream(send, recv, mode, state))


def _spawn(tasks: set[Any], coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def serve(args: Any) -> None:
    mode = common.mode(args.workload)
    state: dict[str, Any] = {"datagrams": 0}
    tasks: set[Any] = set()
    server = wt.Server(
        certificate_chain=[_der(args.cert)],
        private_key=_der(args.key),
        bind=f"127.0.0.1:{args.port}",
    )
    async with server:
        common.ready(server.local_addr[1])
        while True:
            request = await server.accept()
            if request is None:
                return
            _spawn(tasks, _run_session(request, mode, state, tasks))


def server_main(flavor: str) -> None:
    del flavor
    common.server_main(serve)


# ---------------------------------------------------------------------------------------
# Client


async def _sink_stream(session: Any, buf: bytes, size: int) -> int:
    send, recv = await session.open_bi()
    left = size
    while left > 0:
        n = min(left, len(buf))
        await send.write(buf if n == len(buf) else buf[:n])
        left -= n
    await send.finish()
    return int.from_bytes(await recv.readexactly(8), "big")


async def _datagram_count(session: Any) -> dict[str, Any]:
    """W3: the server's reply to a count query (``{"received": N, ...}``)."""
    send, recv = await session.open_bi()
    await send.write(b"count")
    await send.finish()
    return json.loads(await recv.read())


async def run_client(args: Any, flavor: str) -> dict[str, Any]:
    cert_hash = hashlib.sha256(_der(args.cert)).digest()
    client = wt.Client(server_certificate_hashes=[cert_hash])
    url = f"https://127.0.0.1:{args.port}/bench"
    w = args.workload
    async with client:
        if w == "W1":
            session = await client.connect(url)
            buf = bytes(common.WRITE_SIZE)
            d = common.Deadline(0, 0)
            got = await _sink_stream(session, buf, args.size)
            dt = d.elapsed()
            session.close()
            if got != args.size:
                raise RuntimeError(f"server counted {got} bytes, sent {args.size}")
            return {"value": args.size / dt / 2**20, "unit": "MiB/s", "bytes": got, "seconds": dt}
        if w == "W2":
            session = await client.connect(url)
            msg = b"B" * args.payload
            d = common.Deadline(args.duration, args.count)
            n = 0
            while d.more(n):
                send, recv = await session.open_bi()
                await send.write(msg)
                await send.finish()
                back = await recv.read()
                if len(back) != len(msg):
                    raise RuntimeError(f"echo returned {len(back)} bytes")
                n += 1
            dt = d.elapsed()
            session.close()
            return common.rate("count", "round trips/s", n, dt)
        if w == "W3":
            session = await client.connect(url)
            if args.ready:
                await _datagram_count(session)
            msg = b"D" * args.payload
            d = common.Deadline(args.duration, args.count)
            sent = 0
            if hasattr(session, "send_datagrams_wait"):
                # Ours: one await per burst (backpressure as send_datagram_wait).
                burst = [msg] * common.DATAGRAM_BURST
                while d.more(sent):
                    await session.send_datagrams_wait(burst)
                    sent += len(burst)
            elif flavor == "ours":
                while d.more(sent):
                    await session.send_datagram_wait(msg)
                    sent += 1
            else:
                # No backpressure in this API: yield to the loop now and then.
                while d.more(sent):
                    session.send_datagram(msg)
                    sent += 1
                    if sent % 32 == 0:
                        await asyncio.sleep(0)
            dt = d.elapsed()
            reply = await _datagram_count(session)
            received = reply["received"]
            out = common.rate("received", "datagrams/s", received, dt, sent=sent)
            out["loss"] = 1 - received / max(sent, 1)
            if "dropped_incoming" in reply:
                out["server_dropped_incoming"] = reply["dropped_incoming"]
            out["server_receive_api"] = reply.get("api")
            if hasattr(session, "stats"):
                out["client_dropped_outgoing"] = session.stats().datagrams_dropped_outgoing
            session.close()
            return out
        if w == "W4":
            d = common.Deadline(args.duration, args.count)
            n = 0
            while d.more(n):
                session = await client.connect(url)
                send, recv = await session.open_bi()
                await send.write(b"x")
                await send.finish()
                if await recv.read() != b"x":
                    raise RuntimeError("bad echo")
                session.close()
                await session.wait_closed()
                n += 1
            return common.rate("count", "sessions/s", n, d.elapsed())
        if w == "W5":
            session = await client.connect(url)
            buf = bytes(args.size)
            d = common.Deadline(0, 0)
            got = await asyncio.gather(
                *(_sink_stream(session, buf, args.size) for _ in range(args.streams))
            )
            dt = d.elapsed()
            session.close()
            return common.streams_rate(got, args.size, dt)
        if w == "W6":
            gate = asyncio.Semaphore(args.concurrency)

            async def one() -> Any:
                async with gate:
                    return await client.connect(url)

            d = common.Deadline(0, 0)
            sessions = await asyncio.gather(*(one() for _ in range(args.sessions)))
            dt = d.elapsed()
            await common.holding(len(sessions), args.hold)
            for s in sessions:
                s.close()
            return {"value": len(sessions), "unit": "sessions", "connect_seconds": dt}
        raise ValueError(f"unknown workload {w}")


def client_main(flavor: str) -> None:
    common.client_main(lambda args: run_client(args, flavor))
