"""Bulk transfer processes for the loss tests. JSON lines on stdout.

``python _transfer.py server BIND``
    Prints ``{"port", "hash"}``; for every session, reads one bidirectional stream to
    its end, prints ``{"received_len", "received_sha"}``, then answers with as many bytes
    of the reply pattern (seed 2) and finishes. Exits on stdin EOF.
``python _transfer.py client URL HASH SIZE``
    Sends SIZE bytes of the request pattern (seed 1) while reading the reply; prints
    ``{"sent_sha", "received_len", "received_sha", "seconds", "packets_lost", ...}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator

import web_transport as wt

CHUNK = 64 * 1024


def pattern(seed: int, size: int) -> Iterator[bytes]:
    """Deterministic pseudo-random bytes, in chunks."""
    rng = random.Random(seed)
    left = size
    while left > 0:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


def pattern_sha(seed: int, size: int) -> str:
    h = hashlib.sha256()
    for chunk in pattern(seed, size):
        h.update(chunk)
    return h.hexdigest()


def emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def server(bind: str) -> None:
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1", bind.rsplit(":", 1)[0]])
    srv = wt.Server(certificate_chain=[cert], private_key=key, bind=bind, max_idle_timeout=60.0)
    tasks: set[asyncio.Task[None]] = set()

    async def serve(request: wt.SessionRequest) -> None:
        session = await request.accept()
        send, recv = await session.accept_bi()
        h = hashlib.sha256()
        n = 0
        async for chunk in recv:
            h.update(chunk)
            n += len(chunk)
        emit({"received_len": n, "received_sha": h.hexdigest()})
        for chunk in pattern(2, n):
            await send.write(chunk)
        await send.finish()
        await send.wait_closed()
        await session.wait_closed()

    async def accept() -> None:
        async for request in srv:
            t = asyncio.create_task(serve(request))
            tasks.add(t)
            t.add_done_callback(tasks.discard)

    acceptor = asyncio.create_task(accept())
    emit({"port": srv.local_addr[1], "hash": wt.certificate_hash(cert).hex()})
    await asyncio.to_thread(sys.stdin.read)
    srv.close()
    acceptor.cancel()


async def client(url: str, hash_hex: str, size: int) -> None:
    async with wt.Client(
        server_certificate_hashes=[bytes.fromhex(hash_hex)], max_idle_timeout=60.0
    ) as c:
        started = time.monotonic()
        session = await c.connect(url)
        send, recv = await session.open_bi()

        async def upload() -> str:
            h = hashlib.sha256()
            for chunk in pattern(1, size):
                h.update(chunk)
                await send.write(chunk)
            await send.finish()
            return h.hexdigest()

        async def download() -> tuple[int, str]:
            h = hashlib.sha256()
            n = 0
            async for chunk in recv:
                h.update(chunk)
                n += len(chunk)
            return n, h.hexdigest()

        sent_sha, (n, received_sha) = await asyncio.gather(upload(), download())
        seconds = time.monotonic() - started
        stats = session.stats()
        session.close()
        await session.wait_closed()
    emit(
        {
            "sent_sha": sent_sha,
            "received_len": n,
            "received_sha": received_sha,
            "seconds": round(seconds, 2),
            "packets_lost": stats.packets_lost,
            "packets_sent": stats.packets_sent,
            "bytes_lost": stats.bytes_lost,
        }
    )


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(server(sys.argv[2]))
    else:
        asyncio.run(client(sys.argv[2], sys.argv[3], int(sys.argv[4])))
