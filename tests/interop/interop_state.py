"""State shared by the interop conftest and test modules: the certificates, the peer
versions seen, and the collected matrix. (A module of its own, because every
``conftest.py`` outside a package is importable as ``conftest``, ambiguously.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import web_transport as wt

# Peer versions seen during this run (filled by the fixtures that start each peer).
VERSIONS: dict[str, str] = {}
# This session's interop tests before deselection (scenario, peer, test), and their files.
COLLECTED: list[dict[str, str]] = []
COLLECTED_FILES: set[str] = set()


class Cert:
    """A ``generate_self_signed(["localhost", "127.0.0.1"])`` certificate and its hash."""

    def __init__(self) -> None:
        self.der, self.key = wt.generate_self_signed(["localhost", "127.0.0.1"])
        self.hash = wt.certificate_hash(self.der)


class LongCert:
    """A 30-day self-signed ECDSA P-256 certificate made with the openssl CLI (longer
    than the 14 days that ``serverCertificateHashes`` allows)."""

    def __init__(self, directory: Path) -> None:
        cert_path, key_path = directory / "cert.pem", directory / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(key_path), "-out", str(cert_path),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        self.der = cert_path.read_bytes()
        self.key = key_path.read_bytes()
        self.hash = wt.certificate_hash(self.der)
