"""aioquic's own demo application, served unchanged by web_transport.asgi.

``examples/demo.py`` of the aioquic sdist (the version in uv.lock) is fetched at test
set-up with ``pip download --no-binary :all: --no-deps`` (run by ``uv tool run pip``)
into ``target/asgi-cache/`` (never into the repository) and imported from there. It
imports starlette and jinja2 (both in the ``dev`` group) and serves WebTransport at
``/wt``: it accepts, then echoes every ``webtransport.stream.receive`` chunk back on its
stream and every datagram, and never ends a stream (aioquic's dialect has no end of
stream). A Chromium page and a Firefox page (``serverCertificateHashes``) and this
package's Client exchange streams and datagrams with it.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.asgi.conftest import WAIT, ServeApp, unavailable

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "target" / "asgi-cache"


def fetch_demo() -> Path:
    """``examples/`` of the locked aioquic's sdist, extracted under ``target/``."""
    version = importlib.metadata.version("aioquic")
    examples = CACHE / f"aioquic-{version}" / "examples"
    if (examples / "demo.py").exists():
        return examples
    uv = shutil.which("uv")
    if uv is None:
        unavailable("uv is not on PATH: cannot download the aioquic sdist")
    assert uv is not None
    with tempfile.TemporaryDirectory() as tmp:
        argv = [uv, "tool", "run", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        argv += ["--quiet", "-d", tmp, f"aioquic=={version}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        sdists = list(Path(tmp).glob("aioquic-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            unavailable(f"cannot download the aioquic {version} sdist: {done.stderr[-300:]}")
        prefix = f"aioquic-{version}/examples/"
        with tarfile.open(sdists[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            if not any(m.name == prefix + "demo.py" for m in members):
                pytest.fail(f"the aioquic {version} sdist has no examples/demo.py")
            tar.extractall(CACHE, members=members, filter="data")
    return examples


def load_demo() -> ModuleType:
    path = fetch_demo() / "demo.py"
    spec = importlib.util.spec_from_file_location("aioquic_examples_demo", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_app() -> Any:
    return load_demo().app


async def test_demo_with_the_client(
    serve_app: ServeApp, demo_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Streams and datagrams echo; when the client closes, the demo's endless receive
    loop ends with the close reason that receive() raises after the disconnect, and
    nothing is logged as an application error."""
    served = await serve_app(demo_app)
    async with served.client() as client:
        session = await client.connect(served.url("/wt"))
        send, recv = await session.open_bi()
        await send.write(b"hello demo")
        assert await recv.readexactly(10) == b"hello demo"
        await send.write(b", again")
        assert await recv.readexactly(7) == b", again"
        echoed = None
        for _ in range(100):  # datagrams may be lost: resend, bounded
            session.send_datagram(b"datagram")
            try:
                echoed = await asyncio.wait_for(session.receive_datagram(), 0.2)
                break
            except TimeoutError:
                continue
        assert echoed == b"datagram"
        session.close(0, "done")
        await session.wait_closed()
    await served.idle()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


async def test_demo_in_a_browser(serve_app: ServeApp, demo_app: Any, browser_page: Any) -> None:
    served = await serve_app(demo_app)
    result = await browser_page.run(
        "echoWithoutEnd",
        {
            "url": served.url("/wt"),
            "hash": list(served.cert_hash),
            "text": "hello from a browser",
            "datagram": "a datagram",
        },
        within=WAIT * 4,
    )
    assert result["echoed"] == "hello from a browser"
    assert result["datagram"] == "a datagram"
    assert result["closed"] == {"closeCode": 0, "reason": "done"}
    await served.idle()
