"""``web-transport serve --app module:attr``: serve an ASGI application from the command
line, in one process or in ``--workers N`` processes sharing the UDP port
(``Server(reuse_port=True)``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import signal
import sys

import web_transport as wt
from web_transport._serving import certificate, print_endpoint, run_workers
from web_transport.asgi.loader import load_app
from web_transport.asgi.server import serve


def run_app(args: argparse.Namespace) -> int:
    """Run ``serve --app``; return the exit status. ``args`` holds ``app``, ``factory``,
    ``bind``, ``cert``, ``key``, ``workers`` and ``page`` (refused with ``--app``)."""
    if args.page:
        print("error: --page tries the echo server; it does not go with --app", file=sys.stderr)
        return 2
    try:
        load_app(args.app, factory=args.factory)  # fail early, in this process
    except (ImportError, ValueError) as e:
        print(f"error: cannot load {args.app!r}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    chain, key = certificate(args.cert, args.key)
    digest = wt.certificate_hash(chain)
    spawn = multiprocessing.get_context("spawn")
    bound: multiprocessing.Queue[tuple[str, int] | str] = spawn.Queue()
    if args.workers == 1:
        return _worker(args.app, args.factory, args.bind, chain, key, False, bound, digest)
    return run_workers(
        args.bind,
        args.workers,
        lambda at: spawn.Process(
            target=_worker,
            args=(args.app, args.factory, at, chain, key, True, bound, None),
            daemon=True,
        ),
        bound,
        lambda host, port: print_endpoint(host, port, digest, "/"),
        f"app: {args.app}",
    )


def _worker(
    spec: str,
    factory: bool,
    bind: str,
    chain: str | bytes,
    key: str | bytes,
    reuse_port: bool,
    bound: multiprocessing.Queue[tuple[str, int] | str],
    digest: bytes | None,
) -> int:
    """Serve ``spec`` on ``bind`` until SIGTERM / SIGINT; report the bound address (or
    why it could not start) on ``bound``; with ``digest``, print the endpoint."""

    async def main() -> int:
        try:
            app = load_app(spec, factory=factory)
            server = wt.Server(
                certificate_chain=chain, private_key=key, bind=bind, reuse_port=reuse_port
            )
        except (ImportError, ValueError, OSError) as e:
            bound.put(f"{type(e).__name__}: {e}")
            print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, server.close)
        async with server:
            if digest is not None:
                print_endpoint(*server.local_addr, digest, "/")
                print(f"app: {spec}", flush=True)
            bound.put(server.local_addr)
            await serve(app, server)
        return 0

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return 130
