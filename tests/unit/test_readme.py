"""The README's Python examples work: every ```python block compiles, and the quick-start
blocks marked ``# README: server`` and ``# README: client`` run against each other as
the README tells a reader to run them: saved as ``server.py`` and ``client.py``, then
``python server.py`` in one terminal and ``python client.py HASH`` in another, HASH being
what the server printed (``certificate hash: <hex>``). The client must print the echo of
what it sent. Only the port differs: both get a free one through
``WEB_TRANSPORT_EXAMPLE_PORT`` (default 4433)."""

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
SERVER_COMMAND = "python server.py"
CLIENT_COMMAND = "python client.py HASH"
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


def shown_commands() -> list[str]:
    """The command lines of the README's ```sh blocks (comments dropped)."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    blocks = re.findall(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", text, re.MULTILINE | re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


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
    commands = shown_commands()
    assert SERVER_COMMAND in commands, f"the README does not show {SERVER_COMMAND!r}"
    assert CLIENT_COMMAND in commands, f"the README does not show {CLIENT_COMMAND!r}"
    (tmp_path / "server.py").write_text(server_code, encoding="utf-8")
    (tmp_path / "client.py").write_text(client_code, encoding="utf-8")

    port = free_udp_port()
    env = {**os.environ, "WEB_TRANSPORT_EXAMPLE_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", cwd=tmp_path, env=env,
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
            sys.executable, "client.py", digest, cwd=tmp_path, env=env,
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
