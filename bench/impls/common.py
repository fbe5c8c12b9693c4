"""Shared CLI and workload definitions for the benchmark clients and servers.

Every implementation under ``bench/impls/<name>/`` has a ``server.py`` and a ``client.py``
that import this module (standard library only: it runs in each implementation's own
virtual environment).

Server: ``server.py --port P --workload W --cert cert.pem --key key.pem`` prints
``READY <port>`` once it listens, then serves until killed. Its behaviour per stream:

* W1, W5 (sink): read the stream to its end, counting bytes; reply with the count as
  8 bytes big-endian, then finish.
* W2, W4, W6 (echo): read the stream to its end, write it back, finish.
* W3 (datagrams): count every received datagram; a bidi stream (the client's query) is
  answered, after 200 ms for stragglers, with ``{"received": N, ...}`` as JSON.

Client: ``client.py --port P --workload W --cert ... [--size --duration --count --payload
--streams --sessions --concurrency --timeout]`` prints exactly one JSON line on stdout:
``{"ok": true, "value": <metric>, "unit": "...", ...}`` (W6 first prints ``HOLDING <n>``
and waits for a line on stdin, so the harness can read the server's memory).

Both take ``--loop asyncio|uvloop`` (default asyncio): the event loop ``run`` starts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

SINK = ("W1", "W5")
ECHO = ("W2", "W4", "W6")
DATAGRAMS = ("W3",)

READ_SIZE = 1 << 20
"""Read size used by the Python implementations (one ``read`` call per MiB at most)."""

WRITE_SIZE = 1 << 20
"""Write size for bulk transfers (the same 1 MiB buffer is written repeatedly)."""

DATAGRAM_BURST = 64
"""W3: datagrams per ``send_datagrams_wait`` call, where the API has it (ours)."""

LOOPS = ("asyncio", "uvloop")
"""Event loops a Python server or client can run on (``--loop``; uvloop must be installed)."""


def mode(workload: str) -> str:
    """The server behaviour for ``workload``: ``sink``, ``echo`` or ``datagrams``."""
    if workload in SINK:
        return "sink"
    if workload in DATAGRAMS:
        return "datagrams"
    return "echo"


def _parser(role: str, cert_help: str) -> argparse.ArgumentParser:
    """The arguments a server and a client share."""
    p = argparse.ArgumentParser(description=f"benchmark {role}")
    p.add_argument("--loop", choices=LOOPS, default="asyncio", help="event loop to run on")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workload", required=True)
    p.add_argument("--cert", required=True, help=cert_help)
    return p


def run(main: Coroutine[Any, Any, Any], loop: str) -> Any:
    """``asyncio.run(main)`` on the default event loop or, for ``loop="uvloop"``, on uvloop's.

    With ``BENCH_GC_FREEZE=1`` (the instruction-count mode) the objects of the start-up
    move to the garbage collector's permanent generation first, so that a full collection
    does not walk them: its cost then follows the workload, not the interpreter's start-up.
    """
    if os.environ.get("BENCH_GC_FREEZE") == "1":
        gc.collect()
        gc.freeze()
    if loop == "uvloop":
        import uvloop

        return asyncio.run(main, loop_factory=uvloop.new_event_loop)
    return asyncio.run(main)


def server_main(serve: Callable[[argparse.Namespace], Coroutine[Any, Any, Any]]) -> None:
    """A server's entry point: parse the server CLI, run ``serve(args)`` on ``--loop``."""
    args = server_args()
    run(serve(args), args.loop)


def client_main(
    run_client: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]],
) -> None:
    """A client's entry point: parse the client CLI, run ``run_client(args)`` on ``--loop``
    within ``--timeout`` seconds, print its result as the one JSON line."""
    args = client_args()
    emit(run(asyncio.wait_for(run_client(args), args.timeout), args.loop))


def server_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = _parser("server", "certificate (PEM; cert.der beside it)")
    p.add_argument("--key", required=True, help="private key (PEM; key.der beside it)")
    return p.parse_args(argv)


def client_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = _parser("client", "server certificate (PEM; .der beside it)")
    p.add_argument("--size", type=int, default=256 << 20, help="bytes (W1) or per stream (W5)")
    p.add_argument("--duration", type=float, default=3.0, help="seconds (W2, W3, W4)")
    p.add_argument("--count", type=int, default=10_000_000, help="iteration bound")
    p.add_argument("--payload", type=int, default=64, help="bytes per message (W2, W3)")
    p.add_argument(
        "--ready",
        type=int,
        default=0,
        help="W3: 1 = query the count once before sending, so that no datagram is sent "
        "before the server counts (ours and native; the instruction-count mode)",
    )
    p.add_argument("--streams", type=int, default=100, help="concurrent streams (W5)")
    p.add_argument("--sessions", type=int, default=1000, help="idle sessions (W6)")
    p.add_argument("--concurrency", type=int, default=50, help="parallel connects (W6)")
    p.add_argument("--hold", type=float, default=60.0, help="max seconds to hold (W6)")
    p.add_argument("--timeout", type=float, default=120.0, help="overall client timeout")
    return p.parse_args(argv)


def ready(port: int) -> None:
    print(f"READY {port}", flush=True)


def emit(result: dict[str, Any]) -> None:
    result.setdefault("ok", True)
    print(json.dumps(result), flush=True)


async def holding(n: int, hold: float) -> None:
    """W6: tell the harness all sessions are up, then wait (bounded) for its go on stdin."""
    import contextlib

    print(f"HOLDING {n}", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), hold)


class Deadline:
    """A bounded loop: ``while d.more(n)`` runs until ``duration`` elapsed or ``count``."""

    def __init__(self, duration: float, count: int) -> None:
        self.start = time.perf_counter()
        self.end = self.start + duration
        self.count = count

    def more(self, n: int) -> bool:
        return n < self.count and time.perf_counter() < self.end

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    async def repeat(self, op: Callable[[], Awaitable[Any]]) -> int:
        """Await ``op()`` while ``more``; the number of times it ran."""
        n = 0
        while self.more(n):
            await op()
            n += 1
        return n


def rate(name: str, unit: str, n: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "value": n / seconds if seconds > 0 else 0.0,
        "unit": unit,
        name: n,
        "seconds": seconds,
        **extra,
    }


def streams_rate(got: list[int], size: int, seconds: float) -> dict[str, Any]:
    """W5's result: ``got`` holds the bytes each parallel stream delivered, each ``size``
    when whole, all in ``seconds``. Raises ``RuntimeError`` if a stream was short."""
    if any(g != size for g in got):
        raise RuntimeError("a stream was short")
    total = size * len(got)
    return {
        "value": total / seconds / 2**20,
        "unit": "MiB/s",
        "bytes": total,
        "streams": len(got),
        "seconds": seconds,
    }
