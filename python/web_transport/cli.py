"""The ``web-transport`` command: ``demo``, ``serve`` and ``connect``.

``demo`` runs a server and a client in one process on loopback and checks a bidi echo,
a unidirectional stream, datagrams, subprotocol negotiation and a clean close with code
and reason; it exits 0 only if every check held. ``serve --page`` also serves a browser
page (``page.html``) on ``http://127.0.0.1:PORT/`` to try the echo server with.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.server
import json
import multiprocessing
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Sequence
from importlib import resources
from typing import Any, NoReturn

import web_transport as wt
from web_transport._cli_errors import USAGE, CliError, explain, report
from web_transport._serving import certificate, print_endpoint, run_workers

DEMO_BYTES = 16 * 1024 * 1024

# Strong references to background tasks (asyncio keeps only weak ones).
_tasks: set[asyncio.Future[None]] = set()


def _background(coro: Coroutine[object, object, None]) -> None:
    task = asyncio.ensure_future(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _log_line(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


async def _echo_session(session: wt.Session, log: Log = _quiet) -> None:
    """Echo every bidi stream, answer every uni stream on a new uni stream, echo datagrams."""

    async def bidi() -> None:
        while True:
            send, recv = await session.accept_bi()
            _background(_echo_stream(send, recv, log))

    async def uni() -> None:
        while True:
            recv = await session.accept_uni()
            data = await recv.read()
            send = await session.open_uni()
            await send.write(data)
            await send.finish()
            log(f"uni stream: echoed {len(data)} bytes on a new uni stream")

    async def datagrams() -> None:
        async for datagram in session.datagrams():
            session.send_datagram(datagram)
            log(f"datagram: echoed {len(datagram)} bytes")

    tasks = [asyncio.ensure_future(c) for c in (bidi(), uni(), datagrams())]
    await session.wait_closed()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    reason = session.close_reason
    if isinstance(reason, wt.SessionClosedByPeer):
        log(f"session closed by the peer: code {reason.code}, reason {reason.reason!r}")
    else:
        log(f"session closed: {reason!r}")


async def _echo_stream(send: wt.SendStream, recv: wt.RecvStream, log: Log = _quiet) -> None:
    size = 0
    try:
        async for chunk in recv:
            await send.write(chunk)
            size += len(chunk)
        await send.finish()
        log(f"bidi stream: echoed {size} bytes")
    except wt.WebTransportError as e:
        log(f"bidi stream: {type(e).__name__}: {e}")


async def _serve_requests(
    server: wt.Server, accepted: list[wt.Session] | None = None, log: Log = _quiet
) -> None:
    async for request in server:
        protocol = request.protocols[0] if request.protocols else None
        session = await request.accept(protocol=protocol)
        host, port = request.remote_address
        log(f"session from {host}:{port} to {request.url}: accepted, subprotocol {protocol!r}")
        if accepted is not None:
            accepted.append(session)
        _background(_echo_session(session, log))


def _say(ok: bool, text: str) -> bool:
    print(f"  [{'ok' if ok else 'FAIL'}] {text}", flush=True)
    return ok


async def demo() -> int:
    """Run the loopback demo; return the exit status."""
    print(f"web-transport demo (web_transport {wt.__version__})")
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1"])
    digest = wt.certificate_hash(cert)
    checks: list[bool] = []
    async with wt.Server(certificate_chain=[cert], private_key=key, bind="127.0.0.1:0") as server:
        host, port = server.local_addr
        url = f"https://127.0.0.1:{port}/demo"
        print(f"server listening on {host}:{port}; certificate SHA-256 {digest.hex()}")
        accepted: list[wt.Session] = []
        serving = asyncio.ensure_future(_serve_requests(server, accepted))
        async with wt.Client(server_certificate_hashes=[digest]) as client:
            session = await client.connect(url, protocols=["demo-v2", "demo-v1"])
            checks.append(_say(session.protocol == "demo-v2", f"subprotocol: {session.protocol}"))

            send, recv = await session.open_bi()
            await send.write(b"hello, WebTransport")
            await send.finish()
            reply = await recv.read()
            checks.append(_say(reply == b"hello, WebTransport", f"bidi echo: {reply!r}"))

            payload = bytes(range(256)) * (DEMO_BYTES // 256)
            send, recv = await session.open_bi()
            start = time.perf_counter()

            async def push() -> None:
                await send.write(payload)
                await send.finish()

            pushing = asyncio.ensure_future(push())
            received = await recv.read()
            await pushing
            elapsed = time.perf_counter() - start
            mib_s = 2 * len(payload) / elapsed / (1 << 20)
            checks.append(
                _say(
                    received == payload,
                    f"bidi echo of {len(payload) >> 20} MiB: {mib_s:.0f} MiB/s (both directions)",
                )
            )

            uni = await session.open_uni()
            await uni.write(b"one way")
            await uni.finish()
            back = await (await session.accept_uni()).read()
            checks.append(_say(back == b"one way", f"uni streams both ways: {back!r}"))

            session.send_datagram(b"ping")
            datagram = await asyncio.wait_for(session.receive_datagram(), 5)
            checks.append(
                _say(
                    datagram == b"ping",
                    f"datagram echo: {datagram!r} (max {session.max_datagram_size} bytes)",
                )
            )
            print(f"  rtt {session.rtt * 1e3:.3f} ms")

            session.close(4000, "demo done")
            await asyncio.wait_for(session.wait_closed(), 10)
            peer = accepted[0]
            await asyncio.wait_for(peer.wait_closed(), 10)
            seen = peer.close_reason
            checks.append(
                _say(
                    isinstance(seen, wt.SessionClosedByPeer)
                    and (seen.source, seen.code, seen.reason) == ("session", 4000, "demo done"),
                    f"close with code and reason, as the server saw it: {seen!r}",
                )
            )
        serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    ok = all(checks)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


class _PageHTTPServer(http.server.ThreadingHTTPServer):
    # SO_REUSEADDR would let Windows bind a port another program is listening on.
    allow_reuse_address = sys.platform != "win32"
    daemon_threads = True


class PageServer:
    """Serves ``page.html`` on ``http://127.0.0.1:PORT/`` from a thread (standard library
    only), with the WebTransport URL, the certificate hash and the subprotocols to offer
    filled in. Loopback is a secure context, so the page itself needs no certificate."""

    PROTOCOLS = ("echo-v2", "echo-v1")

    def __init__(self, port: int, url: str, cert_hash: bytes) -> None:
        config = {
            "url": url,
            "hash": base64.b64encode(cert_hash).decode(),
            "protocols": list(self.PROTOCOLS),
        }
        template = resources.files("web_transport").joinpath("page.html").read_text("utf-8")
        # "</" cannot end the JSON's <script> element early.
        page = template.replace(
            "__WEB_TRANSPORT_CONFIG__", json.dumps(config).replace("</", "<\\/")
        )
        body = page.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in ("/", "/index.html"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                self.send_header(
                    "content-security-policy",
                    "default-src 'none'; script-src 'unsafe-inline'; "
                    "style-src 'unsafe-inline'; connect-src https:",
                )
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _PageHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="web-transport-page", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


async def serve(
    bind: str, cert_path: str | None, key_path: str | None, page_port: int | None = None
) -> int:
    """Run an echo server until interrupted; with ``page_port``, also the browser page."""
    chain, key = certificate(cert_path, key_path)
    digest = wt.certificate_hash(chain)
    async with wt.Server(certificate_chain=chain, private_key=key, bind=bind) as server:
        url = print_endpoint(*server.local_addr, digest)
        if page_port is None:
            await _serve_requests(server)
            return 0
        try:
            page = PageServer(page_port, url, digest)
        except OSError as e:
            raise CliError(
                f"cannot serve the page on 127.0.0.1:{page_port}: {e}",
                "(choose another port with --page-port, 0 picks a free one)",
            ) from e
        print(f"page: open {page.url} in a browser", flush=True)
        try:
            await _serve_requests(server, log=_log_line)
        finally:
            page.close()
    return 0


def serve_workers(bind: str, cert_path: str | None, key_path: str | None, workers: int) -> int:
    """``serve --workers N``: N processes, each an echo server on the same UDP port
    (``Server(reuse_port=True)``), until interrupted. The first binds ``bind`` (port 0
    picks one); the others bind the port it got."""
    chain, key = certificate(cert_path, key_path)
    spawn = multiprocessing.get_context("spawn")
    bound: multiprocessing.Queue[tuple[str, int] | Exception] = spawn.Queue()
    return run_workers(
        bind,
        workers,
        lambda at: spawn.Process(target=_worker, args=(at, chain, key, bound), daemon=True),
        bound,
        lambda host, port: print_endpoint(host, port, wt.certificate_hash(chain)),
        "each connection stays with one worker while its address stays",
    )


def _worker(
    bind: str, chain: str | bytes, key: str | bytes, bound: multiprocessing.Queue[object]
) -> None:
    async def run() -> None:
        try:
            server = wt.Server(certificate_chain=chain, private_key=key, bind=bind, reuse_port=True)
        except (OSError, ValueError) as e:
            bound.put(e)
            return
        async with server:
            bound.put(server.local_addr)
            await _serve_requests(server)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def connect(
    url: str, cert_hash: bytes | None, message: str, datagram: str | None, wait: float = 10.0
) -> int:
    """Connect (giving up after ``wait`` seconds), echo a message (and a datagram),
    print the replies."""
    client = wt.Client(server_certificate_hashes=[cert_hash] if cert_hash else None)
    print(f"connecting to {url} (QUIC over UDP, waiting up to {wait:g} s)", flush=True)
    async with client:
        try:
            async with asyncio.timeout(wait):
                session = await client.connect(url)
        except TimeoutError:
            parts = urllib.parse.urlsplit(url)
            where = f"{parts.hostname}:{parts.port or 443}"
            raise CliError(
                f"no answer from the server at {where} over UDP within {wait:g} s",
                "(check that the server runs there and that UDP reaches that port; "
                "--timeout waits longer)",
            ) from None
        send, recv = await session.open_bi()
        await send.write(message.encode())
        await send.finish()
        print(f"stream reply: {(await recv.read()).decode(errors='replace')}")
        if datagram is not None:
            session.send_datagram(datagram.encode())
            reply = await asyncio.wait_for(session.receive_datagram(), 5)
            print(f"datagram reply: {reply.decode(errors='replace')}")
        print(f"rtt: {session.rtt * 1e3:.3f} ms")
        session.close(0, "bye")
        await session.wait_closed()
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse reporting a usage error as the command reports every error (one
    ``error:`` line, then what to do), exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise SystemExit(report(CliError(message, f"(see: {self.prog} --help)", USAGE)))


def _sha256_hex(text: str) -> bytes:
    """``--cert-hash``: 64 hexadecimal digits (colons allowed, as browsers show them)."""
    try:
        digest = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SHA-256 hash: give the 64 hexadecimal digits of the "
            "'certificate hash (hex)' line serve printed"
        )
    return digest


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``web-transport`` console script."""
    parser = _Parser(
        prog="web-transport",
        description="WebTransport over HTTP/3 from the command line: a loopback demo, "
        "an echo server and a client.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="server and client on loopback, checking every feature")
    p_serve = sub.add_parser(
        "serve",
        help="run an echo server",
        description="Run a WebTransport echo server until interrupted: bidirectional "
        "streams are echoed, unidirectional streams answered on a new one, datagrams "
        "echoed. It prints the URL and the certificate hash clients pin (connect "
        "--cert-hash, a browser's serverCertificateHashes). Without --cert/--key it makes "
        "a 14-day self-signed certificate for localhost, 127.0.0.1 and ::1.",
    )
    p_serve.add_argument("--bind", default="[::]:4433", help="host:port (default [::]:4433)")
    p_serve.add_argument("--cert", help="certificate chain file (PEM or DER)")
    p_serve.add_argument("--key", help="private key file (PEM or DER)")
    p_serve.add_argument(
        "--page",
        action="store_true",
        help="also serve a page to try the server from a browser, on http://127.0.0.1:PORT/",
    )
    p_serve.add_argument(
        "--page-port", type=int, default=8080, help="port of the page (default 8080; 0 picks one)"
    )
    p_serve.add_argument(
        "--workers", type=int, default=1, help="processes serving the port (SO_REUSEPORT)"
    )
    p_serve.add_argument(
        "--app",
        help="serve this ASGI application's WebTransport sessions instead of the echo "
        "server, as module:attribute (uvicorn's syntax; see web_transport.asgi)",
    )
    p_serve.add_argument(
        "--factory",
        action="store_true",
        help="--app names a callable without arguments that returns the application",
    )
    p_connect = sub.add_parser("connect", help="connect to a server and echo a message")
    p_connect.add_argument("url", help="the server's https:// URL, e.g. the url line serve printed")
    p_connect.add_argument(
        "--cert-hash",
        type=_sha256_hex,
        help="pin the server certificate's SHA-256 (hex; serve prints it); needed for a "
        "self-signed server",
    )
    p_connect.add_argument(
        "--timeout", type=_seconds, default=10.0, help="seconds to wait for the server (10)"
    )
    p_connect.add_argument("--message", default="hello", help="text sent on a bidi stream")
    p_connect.add_argument("--datagram", help="text sent as a datagram")
    for each in (parser, *sub.choices.values()):
        each.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="on an error, show the traceback",
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return asyncio.run(demo())
        if args.command == "serve":
            if bool(args.cert) != bool(args.key):
                p_serve.error("--cert and --key go together")
            if args.workers < 1:
                p_serve.error("--workers must be at least 1")
            if args.app:
                from web_transport.asgi.command import run_app

                return run_app(args)
            if args.factory:
                p_serve.error("--factory goes with --app")
            if args.workers > 1:
                if args.page:
                    p_serve.error("--page serves one process: use it without --workers")
                return serve_workers(args.bind, args.cert, args.key, args.workers)
            page_port = args.page_port if args.page else None
            return asyncio.run(serve(args.bind, args.cert, args.key, page_port))
        return asyncio.run(
            connect(args.url, args.cert_hash, args.message, args.datagram, args.timeout)
        )
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        explained = explain(e)
        if explained is None or getattr(args, "debug", False):
            raise
        return report(explained)


if __name__ == "__main__":
    raise SystemExit(main())
