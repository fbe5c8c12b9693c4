"""The server's own UDP socket (src/udp_socket.rs): dual-stack ``[::]`` binds and
``Server(reuse_port=True)``, several processes on one port (``serve --workers N``)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest
import web_transport as wt

from .conftest import WAIT

pytestmark = pytest.mark.timeout(180)


def ipv6_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 on this machine")
async def test_ipv4_client_reaches_a_dual_stack_server(self_signed_cert: Any) -> None:
    cert = self_signed_cert
    async with (
        wt.Server(
            certificate_chain=[cert.certificate], private_key=cert.private_key, bind="[::]:0"
        ) as server,
        wt.Client(server_certificate_hashes=[cert.hash]) as client,
    ):
        port = server.local_addr[1]
        connecting = asyncio.ensure_future(client.connect(f"https://127.0.0.1:{port}/"))
        request = await asyncio.wait_for(server.accept(), WAIT)
        assert request is not None
        assert request.remote_address[0] == "127.0.0.1"  # IPv4-mapped, shown as IPv4
        peer = await asyncio.wait_for(request.accept(), WAIT)
        session = await asyncio.wait_for(connecting, WAIT)
        send = await peer.open_uni()
        await send.write(b"dual stack")
        await send.finish()
        recv = await asyncio.wait_for(session.accept_uni(), WAIT)
        assert await asyncio.wait_for(recv.read(), WAIT) == b"dual stack"


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SO_REUSEPORT")
def test_reuse_port_lets_a_second_server_bind_the_port(self_signed_cert: Any) -> None:
    cert = self_signed_cert
    kwargs: dict[str, Any] = {
        "certificate_chain": [cert.certificate],
        "private_key": cert.private_key,
    }
    first = wt.Server(bind="127.0.0.1:0", reuse_port=True, **kwargs)
    port = first.local_addr[1]
    second = wt.Server(bind=f"127.0.0.1:{port}", reuse_port=True, **kwargs)
    assert second.local_addr == ("127.0.0.1", port)
    with pytest.raises(OSError, match="cannot bind"):  # without the option, still taken
        wt.Server(bind=f"127.0.0.1:{port}", **kwargs)
    first.close()
    second.close()


@pytest.mark.skipif(sys.platform != "win32", reason="SO_REUSEPORT exists here")
def test_reuse_port_is_refused_without_so_reuseport(self_signed_cert: Any) -> None:
    cert = self_signed_cert
    with pytest.raises(ValueError, match="reuse_port"):
        wt.Server(
            certificate_chain=[cert.certificate],
            private_key=cert.private_key,
            bind="127.0.0.1:0",
            reuse_port=True,
        )


# A server process that tells every session which process served it (its PID, on a
# unidirectional stream).
PID_SERVER = """
import asyncio, os, web_transport as wt
async def main():
    async with wt.Server(certificate_chain=[CERT], private_key=KEY, bind=BIND,
                         reuse_port=True) as server:
        print(server.local_addr[1], flush=True)
        async for request in server:
            session = await request.accept()
            send = await session.open_uni()
            await send.write(str(os.getpid()).encode())
            await send.finish()
asyncio.run(main())
"""

#: Connections (each from a new client port) tried before giving up on seeing both
#: processes. Linux hashes the 4-tuple: the chance that 64 miss one of two processes
#: is 2**-63.
ATTEMPTS = 64


def start_pid_server(cert: Any, bind: str) -> tuple[subprocess.Popen[str], int]:
    code = f"CERT = {cert.certificate!r}\nKEY = {cert.private_key!r}\nBIND = {bind!r}\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code + PID_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = read_line(proc, WAIT)
    return proc, int(line)


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's next stdout line, waiting at most ``timeout`` seconds."""
    got: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: got.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not got or not got[0]:
        proc.kill()
        pytest.fail(f"the server process printed nothing: {proc.communicate()[1][-2000:]}")
    return got[0].strip()


async def served_by(cert: Any, port: int) -> int:
    """Connect from a new client (a new source port) and return the serving PID."""
    async with wt.Client(server_certificate_hashes=[cert.hash]) as client:
        session = await asyncio.wait_for(client.connect(f"https://127.0.0.1:{port}/"), WAIT)
        recv = await asyncio.wait_for(session.accept_uni(), WAIT)
        pid = int(await asyncio.wait_for(recv.read(), WAIT))
        session.close()
        return pid


@pytest.mark.skipif(
    sys.platform != "linux",
    reason="only Linux balances SO_REUSEPORT datagrams over the sockets (macOS and the "
    "BSDs deliver to one; Windows has no SO_REUSEPORT)",
)
async def test_two_processes_serve_one_port(self_signed_cert: Any) -> None:
    first, port = start_pid_server(self_signed_cert, "127.0.0.1:0")
    procs = [first]
    try:
        second, same = start_pid_server(self_signed_cert, f"127.0.0.1:{port}")
        procs.append(second)
        assert same == port
        seen: set[int] = set()
        for _ in range(ATTEMPTS):
            seen.add(await served_by(self_signed_cert, port))
            if len(seen) == 2:
                break
        assert seen == {first.pid, second.pid}
    finally:
        for proc in procs:
            proc.kill()
            proc.communicate()


async def echo(url: str, digest: bytes) -> bytes:
    async with wt.Client(server_certificate_hashes=[digest]) as client:
        session = await asyncio.wait_for(client.connect(url), WAIT)
        send, recv = await session.open_bi()
        await send.write(b"to a worker")
        await send.finish()
        return await asyncio.wait_for(recv.read(), WAIT)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SO_REUSEPORT")
def test_serve_workers_runs_that_many_processes() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "web_transport", "serve", "--workers", "2", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: dict[str, str] = {}
        while "workers" not in lines:
            name, _, value = read_line(proc, 60).partition(": ")
            lines[name] = value
        pids = [int(p) for p in lines["workers"].split("pids ")[1].split()]
        assert len(set(pids)) == 2
        for pid in pids:
            os.kill(pid, 0)  # each worker process is running (ProcessLookupError if not)
        digest = bytes.fromhex(lines["certificate hash (hex)"])
        assert asyncio.run(echo(lines["url"], digest)) == b"to a worker"
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
