"""Scaling over cores: one server port served by 1 or 2 worker processes
(``Server(reuse_port=True)``, as ``web-transport serve --workers N``) or by 1 process
with 2 event-loop threads (each its own ``Server(reuse_port=True)`` on the port; on a
GIL build the threads share one core's worth of Python, on free-threaded CPython they
do not).

Two workloads, each driven by 2 client processes at once (each session from a new
``Client``, so a new source port: Linux spreads them over the server's sockets):

- ``sessions``: sessions/s, sequentially per client process: connect, a 1-byte bidi
  stream answered with its count, close (as W4 of bench/run.py).
- ``W5``: MiB/s, per client process repeatedly: one session, ``--streams`` concurrent
  bidi streams of ``--size`` bytes each, each answered with its count (as W5).

Printed and written (``--out``) as a table of rates and ratios to the 1-process,
1-thread server, all from one run. Linux only (SO_REUSEPORT balancing). Run with the
project's environment: ``uv run python bench/scaling.py [--duration S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import web_transport as wt

HERE = Path(__file__).resolve()
CONFIGS = [("1 process, 1 thread", 1, 1), ("2 processes", 2, 1), ("1 process, 2 threads", 1, 2)]
CLIENTS = 2
WAIT = 30.0


# ---------------------------------------------------------------------------------------
# Server process: `scaling.py _server PORT THREADS CERT_HEX KEY_HEX`


async def count_stream(send: wt.SendStream, recv: wt.RecvStream) -> None:
    total = 0
    while chunk := await recv.read(1 << 20):
        total += len(chunk)
    await send.write(total.to_bytes(8, "big"))
    await send.finish()


async def serve_session(session: wt.Session) -> None:
    tasks = set()
    try:
        while True:
            send, recv = await session.accept_bi()
            task = asyncio.ensure_future(count_stream(send, recv))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    except wt.WebTransportError:
        pass


async def serve(port: int, cert: bytes, key: bytes, ready: threading.Barrier) -> None:
    async with wt.Server(
        certificate_chain=[cert], private_key=key, bind=f"127.0.0.1:{port}", reuse_port=True
    ) as server:
        ready.wait(WAIT)
        tasks = set()
        async for request in server:
            session = await request.accept()
            task = asyncio.ensure_future(serve_session(session))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


def server_main(port: int, threads: int, cert: bytes, key: bytes) -> None:
    ready = threading.Barrier(threads + 1)
    for _ in range(threads):
        threading.Thread(
            target=lambda: asyncio.run(serve(port, cert, key, ready)), daemon=True
        ).start()
    ready.wait(WAIT)
    print("READY", flush=True)
    sys.stdin.read()  # until the harness closes our stdin


# ---------------------------------------------------------------------------------------
# Client process: `scaling.py _client PORT WORKLOAD DURATION STREAMS SIZE HASH_HEX`


async def one_session(url: str, digest: bytes, streams: int, size: int) -> int:
    # A new client per session: a new source port, so the kernel balances sessions over
    # the server's sockets. It is closed without waiting for its drain (as W4 does not
    # wait for its client's).
    client = wt.Client(server_certificate_hashes=[digest])
    try:
        session = await asyncio.wait_for(client.connect(url), WAIT)

        async def stream() -> int:
            send, recv = await session.open_bi()
            sent = 0
            while sent < size:
                n = min(1 << 20, size - sent)
                await send.write(bytes(n))
                sent += n
            await send.finish()
            return int.from_bytes(await asyncio.wait_for(recv.readexactly(8), WAIT), "big")

        counts = await asyncio.gather(*(stream() for _ in range(streams)))
        assert counts == [size] * streams, counts
        session.close()
        await asyncio.wait_for(session.wait_closed(), WAIT)
        return sum(counts)
    finally:
        client.close()


async def client_main(
    url: str, workload: str, duration: float, streams: int, size: int, digest: bytes
) -> dict[str, Any]:
    start = time.perf_counter()
    sessions = moved = 0
    while time.perf_counter() - start < duration and sessions < 100_000:
        if workload == "sessions":
            moved += await one_session(url, digest, 1, 1)
        else:
            moved += await one_session(url, digest, streams, size)
        sessions += 1
    return {"sessions": sessions, "bytes": moved, "elapsed": time.perf_counter() - start}


# ---------------------------------------------------------------------------------------
# Harness


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(
    procs: int, threads: int, workload: str, args: argparse.Namespace, cert: bytes, key: bytes
) -> float:
    port = free_port()
    servers = []
    try:
        for _ in range(procs):
            p = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "_server",
                    str(port),
                    str(threads),
                    cert.hex(),
                    key.hex(),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            servers.append(p)
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "READY"
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "_client",
                    str(port),
                    workload,
                    str(args.duration),
                    str(args.streams),
                    str(args.size),
                    wt.certificate_hash(cert).hex(),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(CLIENTS)
        ]
        results = [json.loads(c.communicate(timeout=args.duration + 120)[0]) for c in clients]
    finally:
        for p in servers:
            p.kill()
            p.communicate()
    elapsed = max(r["elapsed"] for r in results)
    if workload == "sessions":
        return sum(r["sessions"] for r in results) / elapsed
    return sum(r["bytes"] for r in results) / elapsed / (1 << 20)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_server":
        port, threads, cert, key = sys.argv[2:6]
        server_main(int(port), int(threads), bytes.fromhex(cert), bytes.fromhex(key))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        port, workload, duration, streams, size, digest = sys.argv[2:8]
        url = f"https://127.0.0.1:{port}/"
        out = asyncio.run(
            client_main(
                url, workload, float(duration), int(streams), int(size), bytes.fromhex(digest)
            )
        )
        print(json.dumps(out))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    ap.add_argument("--streams", type=int, default=100, help="W5 streams per session")
    ap.add_argument("--size", type=int, default=1 << 20, help="W5 bytes per stream")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (median)")
    ap.add_argument("--out", type=Path, default=None, help="write <out>.md and <out>.json")
    args = ap.parse_args()
    if sys.platform != "linux":
        print("scaling.py: Linux only (SO_REUSEPORT balancing)", file=sys.stderr)
        return 2
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1"])
    rows: dict[str, dict[str, list[float]]] = {}
    for rep in range(args.reps):
        for name, procs, threads in CONFIGS:
            for workload in ("sessions", "W5"):
                rate = measure(procs, threads, workload, args, cert, key)
                rows.setdefault(name, {}).setdefault(workload, []).append(rate)
                print(f"rep {rep + 1}: {name:22} {workload:8} {rate:9.1f}", flush=True)
    med = {n: {w: sorted(v)[len(v) // 2] for w, v in r.items()} for n, r in rows.items()}
    base = med[CONFIGS[0][0]]
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    lines = [
        f"Server configurations on one port, {CLIENTS} client processes, medians of "
        f"{args.reps} runs of {args.duration:g} s (W5: {args.streams} streams x "
        f"{args.size} B per session). Python {platform.python_version()}"
        f"{'' if gil else ' (GIL disabled)'}, {os.cpu_count()} cores.",
        "",
        "| server | sessions/s | ratio | W5 MiB/s | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, _, _ in CONFIGS:
        m = med[name]
        lines.append(
            f"| {name} | {m['sessions']:.1f} | {m['sessions'] / base['sessions']:.2f} "
            f"| {m['W5']:.1f} | {m['W5'] / base['W5']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.with_suffix(".md").write_text(text + "\n")
        args.out.with_suffix(".json").write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "runs": rows,
                    "medians": med,
                    "python": platform.python_version(),
                    "gil_enabled": gil,
                    "cores": os.cpu_count(),
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
