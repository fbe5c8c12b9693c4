"""The README's Python examples work: every ```python block compiles, and the quick-start
blocks marked ``# README: server`` and ``# README: client`` run against each other in
subprocesses. The server gets a free port through ``WEB_TRANSPORT_EXAMPLE_PORT`` and
prints its certificate hash (``certificate hash: <hex>``); the client gets the port and
that hash (``WEB_TRANSPORT_EXAMPLE_HASH``) and must print the echo of what it sent."""

from __future__ import annotations

import ast
import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
HASH_LINE = re.compile(rb"certificate hash:\s*([0-9a-fA-F]{64})")
WAIT = 30.0

pytestmark = pytest.mark.timeout(120)


def python_blocks() -> list[str]:
    if not README.exists():
        return []
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def marked_block(marker: str) -> str | None:
    for block in python_blocks():
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and lines[0] == f"# README: {marker}":
            return block
    return None


def sent_literals(code: str) -> set[str]:
    """The bytes literals in the client block: what it sends and expects echoed."""
    out = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes) and node.value:
            out.add(node.value.decode("utf-8", "replace"))
    return out


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_python_blocks_compile() -> None:
    blocks = python_blocks()
    if not blocks:
        pytest.skip("README has no python blocks yet")
    for i, block in enumerate(blocks):
        compile(block, f"README.md python block {i}", "exec")


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_quick_start_server_and_client(tmp_path: Path) -> None:
    server_code = marked_block("server")
    client_code = marked_block("client")
    if server_code is None or client_code is None:
        pytest.skip("README has no quick-start blocks yet")
    expected = sent_literals(client_code)
    assert expected, "the client block sends no bytes literal to check the echo against"

    port = free_udp_port()
    env = {**os.environ, "WEB_TRANSPORT_EXAMPLE_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", server_code, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        digest = None
        async with asyncio.timeout(WAIT):
            while digest is None:
                line = await server.stdout.readline()
                if not line:
                    break
                found = HASH_LINE.search(line)
                if found:
                    digest = found.group(1).decode()
        if digest is None:
            await stop(server)
            assert server.stderr is not None
            errors = (await server.stderr.read()).decode(errors="replace")
            pytest.fail(f"the server block printed no certificate hash; stderr:\n{errors}")

        client = await asyncio.create_subprocess_exec(
            sys.executable, "-c", client_code, cwd=tmp_path,
            env={**env, "WEB_TRANSPORT_EXAMPLE_HASH": digest},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(client.communicate(), WAIT)
        finally:
            await stop(client)
        output = out.decode(errors="replace")
        assert client.returncode == 0, f"client failed:\n{output}\n{err.decode(errors='replace')}"
        echoed = [line for line in output.splitlines() if "echo" in line.lower()] or [output]
        assert any(text in line for text in expected for line in echoed), (
            f"the client did not print the echo of {sorted(expected)}: {output!r}"
        )
        assert server.returncode is None, "the server block exited early"
    finally:
        await stop(server)
