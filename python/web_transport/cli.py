"""The ``web-transport`` command: ``demo``, ``serve`` and ``connect``.

``demo`` runs a server and a client in one process on loopback and checks a bidi echo,
a unidirectional stream, datagrams, subprotocol negotiation and a clean close with code
and reason; it exits 0 only if every check held.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import multiprocessing
import signal
import sys
import time
from collections.abc import Coroutine, Sequence

import web_transport as wt

DEMO_BYTES = 16 * 1024 * 1024

# Strong references to background tasks (asyncio keeps only weak ones).
_tasks: set[asyncio.Future[None]] = set()


def _background(coro: Coroutine[object, object, None]) -> None:
    task = asyncio.ensure_future(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _echo_session(session: wt.Session) -> None:
    """Echo every bidi stream, answer every uni stream on a new uni stream, echo datagrams."""

    async def bidi() -> None:
        while True:
            send, recv = await session.accept_bi()
            _background(_echo_stream(send, recv))

    async def uni() -> None:
        while True:
            recv = await session.accept_uni()
            data = await recv.read()
            send = await session.open_uni()
            await send.write(data)
            await send.finish()

    async def datagrams() -> None:
        async for datagram in session.datagrams():
            session.send_datagram(datagram)

    tasks = [asyncio.ensure_future(c) for c in (bidi(), uni(), datagrams())]
    await session.wait_closed()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _echo_stream(send: wt.SendStream, recv: wt.RecvStream) -> None:
    try:
        async for chunk in recv:
            await send.write(chunk)
        await send.finish()
    except wt.WebTransportError:
        pass


async def _serve_requests(server: wt.Server, accepted: list[wt.Session] | None = None) -> None:
    async for request in server:
        protocol = request.protocols[0] if request.protocols else None
        session = await request.accept(protocol=protocol)
        if accepted is not None:
            accepted.append(session)
        _background(_echo_session(session))


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


def _certificate(cert_path: str | None, key_path: str | None) -> tuple[str | bytes, str | bytes]:
    """The given certificate chain and key files, or a new self-signed pair."""
    if cert_path and key_path:
        return cert_path, key_path
    return wt.generate_self_signed(["localhost", "127.0.0.1", "::1"])


async def serve(bind: str, cert_path: str | None, key_path: str | None) -> int:
    """Run an echo server until interrupted."""
    chain, key = _certificate(cert_path, key_path)
    digest = wt.certificate_hash(chain)
    async with wt.Server(certificate_chain=chain, private_key=key, bind=bind) as server:
        _print_endpoint(*server.local_addr, digest)
        await _serve_requests(server)
    return 0


def _print_endpoint(host: str, port: int, digest: bytes) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    print(f"url: https://{shown}:{port}/")
    print(f"certificate hash (hex): {digest.hex()}")
    print(f"certificate hash (base64): {base64.b64encode(digest).decode()}")
    b64 = base64.b64encode(digest).decode()
    print(
        "browser: new WebTransport(url, {serverCertificateHashes: [{algorithm: 'sha-256', "
        f"value: Uint8Array.from(atob('{b64}'), c => c.charCodeAt(0))}}]}})",
        flush=True,
    )


def serve_workers(bind: str, cert_path: str | None, key_path: str | None, workers: int) -> int:
    """``serve --workers N``: N processes, each an echo server on the same UDP port
    (``Server(reuse_port=True)``), until interrupted. The first binds ``bind`` (port 0
    picks one); the others bind the port it got."""
    chain, key = _certificate(cert_path, key_path)
    spawn = multiprocessing.get_context("spawn")
    bound: multiprocessing.Queue[tuple[str, int] | str] = spawn.Queue()
    procs = []

    def start(at: str) -> tuple[str, int]:
        proc = spawn.Process(target=_worker, args=(at, chain, key, bound), daemon=True)
        proc.start()
        procs.append(proc)
        got = bound.get(timeout=60)
        if isinstance(got, str):
            raise wt.WebTransportError(f"worker {len(procs)} could not start: {got}")
        return got

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        host, port = start(bind)
        for _ in range(workers - 1):
            start(f"{bind.rsplit(':', 1)[0]}:{port}")
        _print_endpoint(host, port, wt.certificate_hash(chain))
        print(f"workers: {workers} processes, pids {' '.join(str(p.pid) for p in procs)}")
        print("each connection stays with one worker while its address stays", flush=True)
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            proc.terminate()
    return 0


def _worker(
    bind: str, chain: str | bytes, key: str | bytes, bound: multiprocessing.Queue[object]
) -> None:
    async def run() -> None:
        try:
            server = wt.Server(certificate_chain=chain, private_key=key, bind=bind, reuse_port=True)
        except (OSError, ValueError) as e:
            bound.put(f"{type(e).__name__}: {e}")
            return
        async with server:
            bound.put(server.local_addr)
            await _serve_requests(server)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def connect(url: str, cert_hash: str | None, message: str, datagram: str | None) -> int:
    """Connect, echo a message (and a datagram), print the replies."""
    if cert_hash:
        client = wt.Client(server_certificate_hashes=[bytes.fromhex(cert_hash)])
    else:
        client = wt.Client()
    async with client:
        session = await client.connect(url)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``web-transport`` console script."""
    parser = argparse.ArgumentParser(prog="web-transport", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="server and client on loopback, checking every feature")
    p_serve = sub.add_parser("serve", help="run an echo server")
    p_serve.add_argument("--bind", default="[::]:4433", help="host:port (default [::]:4433)")
    p_serve.add_argument("--cert", help="certificate chain file (PEM or DER)")
    p_serve.add_argument("--key", help="private key file (PEM or DER)")
    p_serve.add_argument(
        "--workers", type=int, default=1, help="processes serving the port (SO_REUSEPORT)"
    )
    p_connect = sub.add_parser("connect", help="connect to a server and echo a message")
    p_connect.add_argument("url")
    p_connect.add_argument("--cert-hash", help="pin the server certificate's SHA-256 (hex)")
    p_connect.add_argument("--message", default="hello", help="text sent on a bidi stream")
    p_connect.add_argument("--datagram", help="text sent as a datagram")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return asyncio.run(demo())
        if args.command == "serve":
            if bool(args.cert) != bool(args.key):
                parser.error("--cert and --key go together")
            if args.workers < 1:
                parser.error("--workers must be at least 1")
            if args.workers > 1:
                return serve_workers(args.bind, args.cert, args.key, args.workers)
            return asyncio.run(serve(args.bind, args.cert, args.key))
        return asyncio.run(connect(args.url, args.cert_hash, args.message, args.datagram))
    except KeyboardInterrupt:
        return 130
    except wt.WebTransportError as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
