"""A throw-away local package index (pypiserver) on 127.0.0.1 for the rehearsal: uploads
need no password, nothing falls back to the public index, every wait is bounded; as a
context manager it stops even when a step fails."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from release.console import detail
from release.errors import ReleaseError

START_TIMEOUT, STOP_TIMEOUT = 30.0, 10.0


class LocalIndex:
    """pypiserver serving (and accepting uploads into) ``packages``."""

    def __init__(self, packages: Path, log: Path) -> None:
        self.packages, self.log = packages, log
        with socket.socket() as sock:  # a port free right now
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The upload URL (twine's ``--repository-url``)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def simple_url(self) -> str:
        """The PEP 503 simple index URL for installers."""
        return f"{self.url}simple/"

    def start(self) -> None:
        """Start the server and wait (bounded) until its health endpoint answers."""
        self.packages.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "pypiserver", "run",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--authenticate", ".", "--passwords", ".",
            "--disable-fallback", "--server", "wsgiref",
            str(self.packages),
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ReleaseError(f"pypiserver exited early; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}health", timeout=2) as response:
                    if response.status == 200:
                        detail(f"pypiserver pid {self.process.pid} on {self.url}")
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise ReleaseError(f"pypiserver did not answer within {START_TIMEOUT:.0f}s")

    def stop(self) -> None:
        """Stop the server: terminate, wait (bounded), then kill."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        detail(f"pypiserver pid {self.process.pid} stopped")

    def __enter__(self) -> LocalIndex:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
