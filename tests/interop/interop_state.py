"""State shared by the interop conftest and test modules: the certificates, the peer
versions seen, and the collected matrix. (A module of its own, because every
``conftest.py`` outside a package is importable as ``conftest``, ambiguously.)"""

from __future__ import annotations

import web_transport as wt
from support import certs

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


#: The suites' committed certificates (made once by tests/support/certs/make_certs.py).
CERTS = certs.DIR


class LongCert:
    """A self-signed ECDSA P-256 certificate (PEM) valid for 50 years, longer than the 14
    days that ``serverCertificateHashes`` allows: ``tests/support/certs/long.pem``, so
    no test depends on an ``openssl`` command."""

    def __init__(self) -> None:
        self.der = (CERTS / "long.pem").read_bytes()
        self.key = (CERTS / "long.key").read_bytes()
        self.hash = wt.certificate_hash(self.der)
