"""What both ``serve`` commands (the echo server and ``serve --app``) share: the
certificate, the printed endpoint and the worker processes of ``--workers N``."""

from __future__ import annotations

import base64
import multiprocessing
import signal
import sys
from collections.abc import Callable
from typing import Any

import web_transport as wt


def certificate(cert_path: str | None, key_path: str | None) -> tuple[str | bytes, str | bytes]:
    """The given certificate chain and key files, or a new self-signed pair."""
    if cert_path and key_path:
        return cert_path, key_path
    return wt.generate_self_signed(["localhost", "127.0.0.1", "::1"])


def print_endpoint(host: str, port: int, digest: bytes, path: str = "/echo") -> str:
    """Print the server's URL and certificate hash; return the URL. ``path``: "/echo" for
    the echo server (it answers on any path; the page and the README connect there), "/"
    for an ASGI application, whose routes are its own."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"https://{shown}:{port}{path}"
    b64 = base64.b64encode(digest).decode()
    print(f"url: {url}")
    print(f"certificate hash (hex): {digest.hex()}")
    print(f"certificate hash (base64): {b64}")
    print(
        "browser: new WebTransport(url, {serverCertificateHashes: [{algorithm: 'sha-256', "
        f"value: Uint8Array.from(atob('{b64}'), c => c.charCodeAt(0))}}]}})",
        flush=True,
    )
    return url


def run_workers(
    bind: str,
    workers: int,
    process: Callable[[str], multiprocessing.process.BaseProcess],
    bound: multiprocessing.Queue[Any],
    endpoint: Callable[[str, int], object],
    note: str,
) -> int:
    """Start ``workers`` processes, ``process(address)`` each, until SIGTERM or an
    interrupt (``serve --workers``, with or without ``--app``); return the exit status.

    Each worker reports on ``bound`` the ``(host, port)`` it bound, or why it could not:
    an exception (raised here, reported by ``main`` as if this process had failed) or a
    message (raised as :class:`web_transport.WebTransportError`). The first binds ``bind``
    (port 0 picks one), the others the port it got; then ``endpoint(host, port)``, the
    workers' pids and ``note`` are printed. Every worker is terminated on the way out."""
    procs: list[multiprocessing.process.BaseProcess] = []

    def start(at: str) -> tuple[str, int]:
        proc = process(at)
        proc.start()
        procs.append(proc)
        got = bound.get(timeout=60)
        if isinstance(got, Exception):
            raise got
        if isinstance(got, str):
            raise wt.WebTransportError(f"worker {len(procs)} could not start: {got}")
        return got

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        host, port = start(bind)
        for _ in range(workers - 1):
            start(f"{bind.rsplit(':', 1)[0]}:{port}")
        endpoint(host, port)
        print(f"workers: {workers} processes, pids {' '.join(str(p.pid) for p in procs)}")
        print(note, flush=True)
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            proc.terminate()
    return 0
