"""Fixtures of the reliability suite (see ``_support.py`` for the helpers).

``WEB_TRANSPORT_FULL=1`` switches every test from its CI size to the full counts of the
reliability issue; the full runs record their results under ``results/``.
"""

from __future__ import annotations

import pytest

from tests.support.peers import Cert


@pytest.fixture(scope="session")
def certs() -> Cert:
    """One self-signed certificate for the whole run."""
    return Cert.generate()
