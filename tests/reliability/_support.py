"""Shared helpers for the reliability suite: sizes (CI vs full), an in-process echo
server (:func:`tests.support.peers.serve` with ``tests.support.echo``), echo checks,
subprocess peers and /proc memory readings.

Every wait here is bounded; timeouts are generous because the suite runs on small,
shared machines and must never assert on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import web_transport as wt

from tests.support.echo import echo_bytes, echo_session, serve_streams
from tests.support.peers import Cert, Served, serve

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
#: The repository root: on ``PYTHONPATH`` of the children, which import ``tests``.
ROOT = HERE.parents[1]

#: ``WEB_TRANSPORT_FULL=1`` runs the full counts of the reliability issue instead of the
#: CI-sized ones.
FULL = os.environ.get("WEB_TRANSPORT_FULL", "") not in ("", "0")

#: Upper bound for any single wait on a network event in the suite (seconds).
BOUND = 30.0


def scale(ci: int, full: int) -> int:
    """``full`` when ``WEB_TRANSPORT_FULL=1``, else ``ci``."""
    return full if FULL else ci


def echo_server(
    certs: Cert, **server_kwargs: Any
) -> contextlib.AbstractAsyncContextManager[Served]:
    """:func:`tests.support.peers.serve` echoing every session, at ``/echo``."""
    return serve(certs, echo_session, path="/echo", **server_kwargs)


async def fresh_echo(url: str, certs: Cert, payload: bytes = b"ping" * 256) -> bytes:
    """Connect a brand-new client to ``url``, echo ``payload`` and close; bounded."""

    async def run() -> bytes:
        async with certs.client() as client:
            session = await client.connect(url)
            got = await echo_bytes(session, payload)
            session.close()
            return got

    return await asyncio.wait_for(run(), BOUND)


# -- /proc ----------------------------------------------------------------------------


def proc_status_kb(pid: int, field_name: str) -> int:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def rss_kb(pid: int | None = None) -> int:
    return proc_status_kb(pid or os.getpid(), "VmRSS")


# -- subprocesses -----------------------------------------------------------------------


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Python children: this one, unbuffered, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("SSLKEYLOGFILE", None)
    if extra:
        env.update(extra)
    return env


@dataclass
class Child:
    """A Python subprocess speaking JSON lines on stdout (one object per line)."""

    proc: subprocess.Popen[str]

    @classmethod
    def start(
        cls,
        script: str,
        args: Sequence[str] = (),
        *,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> Child:
        proc = subprocess.Popen(
            [*prefix, sys.executable, str(HERE / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(env),
        )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def message(self, within: float = BOUND) -> dict[str, Any]:
        """The next JSON line from the child (bounded)."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), within)
        if not line:
            err = await asyncio.to_thread(self.stderr_after_exit)
            raise RuntimeError(f"child exited (rc={self.proc.returncode}): {err[-3000:]}")
        return json.loads(line)

    async def expect(self, key: str, within: float = BOUND) -> dict[str, Any]:
        """Skip messages until one with ``key``."""
        deadline = time.monotonic() + within
        while True:
            msg = await self.message(max(0.1, deadline - time.monotonic()))
            if key in msg:
                return msg

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def stderr_after_exit(self, timeout: float = 10.0) -> str:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait(timeout)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def close(self) -> tuple[int, str]:
        """Close stdin (children exit on EOF), wait (bounded; kill after) and return
        ``(returncode, stderr)``."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(BOUND)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait(BOUND)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return self.proc.returncode, err


def assert_clean_stderr(stderr: str) -> None:
    """No interpreter abort, Rust panic or sanitizer report in a child's stderr."""
    for marker in ("Fatal Python error", "panicked at", "Segmentation fault", "AddressSanitizer"):
        assert marker not in stderr, f"{marker!r} in child stderr:\n{stderr[-4000:]}"


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Record a full-count result under ``tests/reliability/results/``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    data = {
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "web_transport": wt.__version__,
        "cpu_count": os.cpu_count(),
        **data,
    }
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


# -- a scripted peer --------------------------------------------------------------------


async def open_scripted(session: wt.Session, *commands: bytes) -> list[tuple[Any, Any]]:
    """Open one bidirectional stream per ``CMD_*`` towards :func:`scripted_session`,
    each told its command: ``[(send, recv), ...]`` in the order given."""
    streams = []
    for command in commands:
        send, recv = await session.open_bi()
        await send.write(command)
        streams.append((send, recv))
    return streams


#: First byte of a bidirectional stream opened towards :func:`scripted_session`.
CMD_ECHO = b"E"  # echo the rest of the stream
CMD_SINK = b"S"  # never read again: the opener's writes block on flow control
CMD_FIREHOSE = b"F"  # write 16 KiB chunks forever
CMD_QUIET = b"Q"  # do nothing: the opener's reads wait forever


async def scripted_session(session: wt.Session, keep: list[Any] | None = None) -> None:
    """Serve one session by the first byte of each bidirectional stream (``CMD_*``).

    Streams are kept referenced in ``keep`` (or a local list) so that nothing is
    stopped or reset by garbage collection while the test runs.
    """
    held: list[Any] = keep if keep is not None else []

    async def handle(send: wt.SendStream, recv: wt.RecvStream) -> None:
        held.append((send, recv))
        with contextlib.suppress(wt.WebTransportError):
            cmd = await recv.readexactly(1)
            if cmd == CMD_ECHO:
                async for chunk in recv:
                    await send.write(chunk)
                await send.finish()
            elif cmd == CMD_FIREHOSE:
                chunk = b"f" * 16384
                while True:
                    await send.write(chunk)
            # CMD_SINK, CMD_QUIET: hold the stream and do nothing.

    await serve_streams(session, handle)


# -- a UDP relay that can drop, reorder or cut ------------------------------------------


class UdpRelay(asyncio.DatagramProtocol):
    """Forward UDP between clients and one upstream address, optionally losing
    ``loss`` of the datagrams, delaying ``reorder`` of them by ``reorder_delay``
    seconds (so later ones overtake them), or dropping everything (``cut``).

    One upstream socket per client address, like a NAT.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        loss: float = 0.0,
        reorder: float = 0.0,
        reorder_delay: float = 0.005,
        seed: int = 1,
    ) -> None:
        import random

        self.upstream = upstream
        self.loss = loss
        self.reorder = reorder
        self.reorder_delay = reorder_delay
        self.cut = False
        self.rng = random.Random(seed)
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self.pending: dict[tuple[str, int], list[bytes]] = {}
        self.counts = {"forwarded": 0, "lost": 0, "reordered": 0, "cut": 0}

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def _forward(self, transport: asyncio.DatagramTransport, data: bytes, addr: Any) -> None:
        if self.cut:
            self.counts["cut"] += 1
            return
        r = self.rng.random()
        if r < self.loss:
            self.counts["lost"] += 1
            return
        if r < self.loss + self.reorder:
            self.counts["reordered"] += 1
            asyncio.get_running_loop().call_later(
                self.reorder_delay, self._send, transport, data, addr
            )
            return
        self._send(transport, data, addr)

    def _send(self, transport: asyncio.DatagramTransport, data: bytes, addr: Any) -> None:
        if not transport.is_closing():
            self.counts["forwarded"] += 1
            transport.sendto(data, addr)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        flow = self.flows.get(addr)
        if flow is None:
            if addr in self.pending:
                self.pending[addr].append(data)
                return
            self.pending[addr] = [data]
            asyncio.get_running_loop().create_task(self._open_flow(addr))
            return
        self._forward(flow, data, None)

    async def _open_flow(self, client: tuple[str, int]) -> None:
        relay = self

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                assert relay.transport is not None
                relay._forward(relay.transport, data, client)

        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            Back, remote_addr=self.upstream, family=2
        )
        self.flows[client] = transport  # type: ignore[assignment]
        for data in self.pending.pop(client, []):
            self._forward(transport, data, None)  # type: ignore[arg-type]

    def close(self) -> None:
        for t in self.flows.values():
            t.close()
        if self.transport is not None:
            self.transport.close()


async def start_relay(upstream: tuple[str, int], **kwargs: Any) -> UdpRelay:
    """Start a :class:`UdpRelay` on ``127.0.0.1:0`` forwarding to ``upstream``."""
    loop = asyncio.get_running_loop()
    _, relay = await loop.create_datagram_endpoint(
        lambda: UdpRelay(upstream, **kwargs), local_addr=("127.0.0.1", 0)
    )
    return relay
