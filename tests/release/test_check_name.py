"""``release check-name``: PyPI's ultranormalization and reading PEP 691 project lists."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from release import check_name
from release.__main__ import main
from release.errors import ReleaseError

#: (name, ultranormalized form)
ULTRANORMALIZED = [
    ("web-transport-py", "webtransp0rtpy"),
    ("webtransport-py", "webtransp0rtpy"),
    ("WebTransport.Py", "webtransp0rtpy"),
    ("web_transport__py", "webtransp0rtpy"),
    ("web-transport-python", "webtransp0rtpyth0n"),
    ("Pillow", "p1110w"),
    ("pi110w", "p1110w"),
    ("\uff57\uff45\uff42-transport", "webtransp0rt"),  # full-width letters fold (NFKC)
]


@pytest.mark.parametrize(("name", "expected"), ULTRANORMALIZED)
def test_ultranormalize(name: str, expected: str) -> None:
    assert check_name.ultranormalize(name) == expected


def test_collisions_exclude_our_own_project() -> None:
    existing = ["webtransport-py", "Web_Transport.Py", "web-transport-py", "aioquic"]
    assert check_name.collisions("web-transport-py", existing) == ["webtransport-py"]
    assert check_name.collisions("web-transport-python", existing) == []
    assert check_name.collisions("web-transport-python", ["web-transport-python"]) == []


class _Index(BaseHTTPRequestHandler):
    body = b""
    content_type = check_name.SIMPLE_JSON

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[tuple[str, type[_Index]]]:
    """A local PEP 691 index on 127.0.0.1 serving whatever ``handler.body`` holds."""
    handler = type("Handler", (_Index,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/simple/", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _listing(*names: str) -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.4"}, "projects": [{"name": n} for n in names]}
    ).encode()


def test_a_colliding_index_fails(index: tuple[str, type[_Index]]) -> None:
    url, handler = index
    handler.body = _listing("aioquic", "webtransport-py")
    assert check_name.fetch_project_names(url) == ["aioquic", "webtransport-py"]
    assert main(["check-name", "--index", url, "--name", "web-transport-py"]) == 1
    assert main(["check-name", "--index", url]) == 0  # pyproject.toml's name


def test_html_answer_is_a_clear_error(index: tuple[str, type[_Index]]) -> None:
    url, handler = index
    handler.content_type = "text/html"
    handler.body = b"<html></html>"
    with pytest.raises(ReleaseError, match="PEP 691"):
        check_name.fetch_project_names(url)


def test_unreachable_index_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now: the connection is refused at once.
    url = f"http://127.0.0.1:{port}/simple/"
    with pytest.raises(ReleaseError, match=f"cannot read the simple index {url}"):
        check_name.fetch_project_names(url, timeout=10)
    assert main(["check-name", "--index", url]) == 1
