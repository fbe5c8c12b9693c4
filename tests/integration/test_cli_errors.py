"""Every ordinary mistake with the ``web-transport`` command ends in one ``error:`` line
and one line saying what to do, with no traceback: exit status 2 for a usage error, 1
for a runtime error (python/web_transport/_cli_errors.py). Each row runs the command as
a user does, ``python -m web_transport`` in a subprocess, and compares its stderr
exactly. A server the rows connect to runs in this process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import errno
import os
import re
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.echo import echo_session

RUN_TIMEOUT = 60.0
DEBUG_TEXT = re.compile(r"Other\(|Why\(|Some\(|OtherError|UnknownIssuer")
POSIX_ONLY = pytest.mark.skipif(
    sys.platform == "win32", reason="the row's expected text is the POSIX strerror"
)

pytestmark = pytest.mark.timeout(120)


@dataclass
class Ran:
    status: int
    stdout: str
    stderr: str


async def run_cli(*argv: str, cwd: Path) -> Ran:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web_transport", *argv, cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


def os_text(number: int) -> str:
    """How the Rust standard library shows an OS error (io::Error's Display on POSIX)."""
    return f"{os.strerror(number)} (os error {number})"


@pytest.fixture
def busy_udp_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Row:
    """One mistake: the arguments (from the row's context), the exit status, and the
    exact two lines on stderr."""

    mistake: str
    argv: Callable[[dict[str, Any]], list[str]]
    status: int
    what: Callable[[dict[str, Any]], str]
    next_step: str


HASH_HINT = (
    "(pass the 'certificate hash (hex)' line serve printed at its last start as --cert-hash)"
)

ROWS = [
    pytest.param(
        Row(
            "QUIC port in use",
            lambda c: ["serve", "--bind", f"127.0.0.1:{c['busy']}"],
            1,
            lambda c: f"cannot bind 127.0.0.1:{c['busy']}: {os_text(errno.EADDRINUSE)}",
            "(another program uses that UDP port: stop it, or choose another port with "
            "--bind HOST:PORT; port 0 picks a free one)",
        ),
        marks=POSIX_ONLY,
        id="port in use",
    ),
    pytest.param(
        Row(
            "missing certificate file",
            lambda c: ["serve", "--bind", "127.0.0.1:0", "--cert", "nope.pem", "--key", "k.pem"],
            1,
            lambda c: f"certificate: cannot read nope.pem: {os_text(errno.ENOENT)}",
            "(check the paths given to --cert and --key)",
        ),
        marks=POSIX_ONLY,
        id="missing cert",
    ),
    pytest.param(
        Row(
            "missing key file",
            lambda c: ["serve", "--bind", "127.0.0.1:0", "--cert", c["cert"], "--key", "k.pem"],
            1,
            lambda c: f"private_key: cannot read k.pem: {os_text(errno.ENOENT)}",
            "(check the paths given to --cert and --key)",
        ),
        marks=POSIX_ONLY,
        id="missing key",
    ),
    pytest.param(
        Row(
            "not a certificate",
            lambda c: ["serve", "--bind", "127.0.0.1:0", "--cert", c["key"], "--key", c["key"]],
            2,
            lambda c: "certificate: not a valid X.509 certificate (DER)",
            "(--cert takes a PEM or DER certificate chain file, --key its private key)",
        ),
        id="key as cert",
    ),
    pytest.param(
        Row(
            "--cert without --key",
            lambda c: ["serve", "--cert", c["cert"]],
            2,
            lambda c: "--cert and --key go together",
            "(see: web-transport serve --help)",
        ),
        id="cert without key",
    ),
    pytest.param(
        Row(
            "malformed --cert-hash",
            lambda c: ["connect", c["url"], "--cert-hash", "zz"],
            2,
            lambda c: (
                "argument --cert-hash: 'zz' is not a SHA-256 hash: give the 64 "
                "hexadecimal digits of the 'certificate hash (hex)' line serve printed"
            ),
            "(see: web-transport connect --help)",
        ),
        id="malformed hash",
    ),
    pytest.param(
        Row(
            "wrong --cert-hash",
            lambda c: ["connect", c["url"], "--cert-hash", "00" * 32],
            1,
            lambda c: (
                "the server's certificate was refused: its SHA-256 hash "
                f"{c['hash']} is not in server_certificate_hashes ({'00' * 32}): pin the hash "
                "the server printed at its last start"
            ),
            HASH_HINT,
        ),
        id="wrong hash",
    ),
    pytest.param(
        Row(
            "self-signed server, no --cert-hash",
            lambda c: ["connect", c["url"]],
            1,
            lambda c: (
                "the server's certificate is not signed by a certificate authority "
                "this client trusts (unknown issuer): a self-signed server needs "
                "server_certificate_hashes (--cert-hash; serve prints it), a private CA needs "
                "ca_certificates"
            ),
            "(pass --cert-hash with the 'certificate hash (hex)' line serve printed)",
        ),
        id="unknown issuer",
    ),
    pytest.param(
        Row(
            "nothing listening",
            lambda c: ["connect", f"https://127.0.0.1:{c['free']}/echo", "--timeout", "1"],
            1,
            lambda c: f"no answer from the server at 127.0.0.1:{c['free']} over UDP within 1 s",
            "(check that the server runs there and that UDP reaches that port; "
            "--timeout waits longer)",
        ),
        id="nothing listening",
    ),
    pytest.param(
        Row(
            "no URL",
            lambda c: ["connect"],
            2,
            lambda c: "the following arguments are required: url",
            "(see: web-transport connect --help)",
        ),
        id="no url",
    ),
]


@pytest.fixture
async def context(
    start_server: Callable[..., Awaitable[Any]], busy_udp_port: int, tmp_path: Path
) -> dict[str, Any]:
    srv = await start_server(echo_session)
    cert = tmp_path / "cert.der"
    key = tmp_path / "key.der"
    cert.write_bytes(srv.cert.certificate)
    key.write_bytes(srv.cert.private_key)
    return {
        "url": f"https://127.0.0.1:{srv.port}/echo",
        "hash": srv.cert.hash.hex(),
        "busy": busy_udp_port,
        "free": free_udp_port(),
        "cert": str(cert),
        "key": str(key),
        "cwd": tmp_path,
    }


@pytest.mark.parametrize("row", ROWS)
async def test_mistake_gets_one_error_line_and_a_next_step(
    context: dict[str, Any], row: Row
) -> None:
    ran = await run_cli(*row.argv(context), cwd=context["cwd"])
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.splitlines() == [f"error: {row.what(context)}", row.next_step], (
        f"{row.mistake}: stderr was\n{ran.stderr}"
    )
    assert ran.status == row.status, f"{row.mistake}: exit status {ran.status}"
    assert not DEBUG_TEXT.search(ran.stderr), ran.stderr
    if row.argv(context)[0] == "connect" and row.status == 1:
        assert ran.stdout.startswith("connecting to https://127.0.0.1:"), ran.stdout


async def test_debug_shows_the_traceback(context: dict[str, Any]) -> None:
    ran = await run_cli(
        "connect", context["url"], "--cert-hash", "00" * 32, "--debug", cwd=context["cwd"]
    )
    assert ran.status == 1
    assert "Traceback (most recent call last)" in ran.stderr
    assert "ConnectError: the server's certificate was refused" in ran.stderr


async def test_connect_then_echo_with_the_printed_hash(context: dict[str, Any]) -> None:
    """The happy path the error lines point to: the hash serve prints, pinned."""
    ran = await run_cli(
        "connect", context["url"], "--cert-hash", context["hash"], "--message", "hi",
        cwd=context["cwd"],
    )  # fmt: skip
    assert ran.status == 0, ran.stderr
    assert ran.stdout.splitlines()[:2] == [
        f"connecting to {context['url']} (QUIC over UDP, waiting up to 10 s)",
        "stream reply: hi",
    ]
