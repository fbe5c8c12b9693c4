"""``web-transport serve --app module:attr`` (and ``--factory``, ``--workers``) as a
subprocess, from the recipes' directory (the application is imported from the working
directory, as uvicorn does)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest
import web_transport as wt

from tests.asgi.conftest import WAIT

RECIPES = Path(__file__).resolve().parent / "recipes"


@contextlib.asynccontextmanager
async def serving(*args: str) -> AsyncGenerator[tuple[str, bytes, list[str]]]:
    """Run ``python -m web_transport serve ARGS``; yield its URL, the certificate hash and
    the lines it printed; SIGTERM it at the end and check that it exits 0."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "web_transport",
        "serve",
        "--bind",
        "127.0.0.1:0",
        *args,
        cwd=RECIPES,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its workers are killed with it (process group)
    )
    assert proc.stdout is not None
    lines: list[str] = []
    url = digest = None
    try:
        async with asyncio.timeout(WAIT * 2):
            while not lines or not lines[-1].startswith("app: "):  # printed last
                line = (await proc.stdout.readline()).decode()
                if not line:
                    err = b"" if proc.stderr is None else await proc.stderr.read()
                    pytest.fail(f"serve exited early: {lines} {err.decode()[-2000:]}")
                lines.append(line.rstrip())
                if line.startswith("url: "):
                    url = line.split()[1]
                elif line.startswith("certificate hash (hex): "):
                    digest = bytes.fromhex(line.split()[-1])
        assert url is not None
        assert digest is not None
        yield url, digest, lines
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


async def echo_through(url: str, digest: bytes) -> bytes:
    async with wt.Client(server_certificate_hashes=[digest]) as client:
        session = await client.connect(url + "echo")
        send, recv = await session.open_bi()
        await send.write(b"via the command line")
        await send.finish()
        data = await recv.read()
        session.close()
        return data


@pytest.mark.parametrize(
    "spec", [["--app", "raw_app:app"], ["--app", "raw_app:create_app", "--factory"]]
)
async def test_serve_app(spec: list[str]) -> None:
    async with serving(*spec) as (url, digest, _):
        assert await echo_through(url, digest) == b"via the command line"


async def test_serve_app_workers() -> None:
    async with serving("--app", "raw_app:app", "--workers", "2") as (url, digest, lines):
        assert any(line.startswith("workers: 2 processes") for line in lines)
        for _ in range(3):
            assert await echo_through(url, digest) == b"via the command line"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("no_such_module:app", "ModuleNotFoundError"),
        ("raw_app:nothing", "not found"),
        ("raw_app", "module:attribute"),
    ],
)
async def test_serve_app_that_cannot_load(spec: str, words: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "web_transport",
        "serve",
        "--app",
        spec,
        cwd=RECIPES,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT * 2):
        _, err = await proc.communicate()
    assert proc.returncode == 1
    assert f"cannot load {spec!r}" in err.decode()
    assert words in err.decode()
