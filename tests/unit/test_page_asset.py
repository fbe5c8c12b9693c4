"""The page of ``web-transport serve --page`` without a browser: it ships in the package,
loads nothing from other hosts, and is served with its settings filled in
(tests/interop/test_page.py drives it in the browsers)."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from importlib import resources

import pytest
from web_transport.cli import PageServer, main

CONFIG = re.compile(r'<script id="config" type="application/json">(.*?)</script>', re.S)


def test_page_ships_in_the_package_and_is_self_contained() -> None:
    page = resources.files("web_transport").joinpath("page.html").read_text("utf-8")
    assert "__WEB_TRANSPORT_CONFIG__" in page
    # No script, style, image or font from anywhere else (the CSP forbids them too).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page


def test_page_server_fills_in_the_settings() -> None:
    digest = bytes(range(32))
    server = PageServer(0, "https://127.0.0.1:4433/echo</script>", digest)
    try:
        with urllib.request.urlopen(server.url, timeout=10) as response:
            body = response.read().decode()
            csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "connect-src https:" in csp
        found = CONFIG.search(body)
        assert found is not None
        config = json.loads(found.group(1))
        assert config == {
            "url": "https://127.0.0.1:4433/echo</script>",
            "hash": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "protocols": ["echo-v2", "echo-v1"],
        }
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url + "favicon.ico", timeout=10)
        assert missing.value.code == 404
    finally:
        server.close()


def test_serve_page_on_a_busy_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = ["serve", "--page", "--bind", "127.0.0.1:0", "--page-port", str(port)]
        assert main(argv) == 1
    assert "--page-port" in capsys.readouterr().err
