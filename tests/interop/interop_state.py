"""State shared by the interop conftest and test modules: the certificates, the peer
versions seen, and the collected matrix. (A module of its own, because every
``conftest.py`` outside a package is importable as ``conftest``, ambiguously.)"""

from __future__ import annotations

from tests.support import certs

# Peer versions seen during this run (filled by the fixtures that start each peer).
VERSIONS: dict[str, str] = {}
# This session's interop tests before deselection (scenario, peer, test), and their files.
COLLECTED: list[dict[str, str]] = []
COLLECTED_FILES: set[str] = set()


#: The suites' committed certificates (made once by tests/support/certs/make_certs.py).
CERTS = certs.DIR
