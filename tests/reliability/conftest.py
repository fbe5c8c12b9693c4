"""Fixtures of the reliability suite (see ``_support.py`` for the helpers).

``WEB_TRANSPORT_FULL=1`` switches every test from its CI size to the full counts of the
reliability issue; the full runs record their results under ``results/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._support import Certs, EchoServer, echo_server


@pytest.fixture(scope="session")
def certs() -> Certs:
    """One self-signed certificate for the whole run."""
    return Certs.generate()


@pytest.fixture
async def echo(certs: Certs) -> AsyncIterator[EchoServer]:
    """An in-process echo server on 127.0.0.1."""
    async with echo_server(certs) as server:
        yield server
