"""Shared fixtures over the one harness, :mod:`tests.support.peers`.

- ``self_signed_cert`` (session scope): a :class:`~tests.support.peers.Cert` for
  ``localhost``, ``127.0.0.1`` and ``::1``, valid 14 days.
- ``start_server`` (function scope, async): a factory running
  :func:`~tests.support.peers.serve` with that certificate until teardown; it takes
  ``serve``'s arguments and returns the :class:`~tests.support.peers.Served`.

And one option: ``--loop=uvloop`` runs every asyncio test on a uvloop event loop instead
of asyncio's own (pytest-asyncio's ``pytest_asyncio_loop_factories`` hook). uvloop has no
Windows build, so there every test is skipped with that reason; elsewhere a missing uvloop
is a usage error, never a silent run on the default loop.

Example, with the suites' shared echo peer (``tests/support/echo.py``)::

    from tests.support.echo import echo_bytes, echo_session

    async def test_echo(start_server):
        srv = await start_server(echo_session)
        async with srv.client() as client:
            session = await client.connect(srv.url)
            assert await echo_bytes(session, b"hi") == b"hi"
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from tests.support.peers import Cert, Served, serve

#: What ``start_server`` returns.
StartServer = Callable[..., Awaitable[Served]]


#: The event loops ``--loop`` chooses from: name -> module whose ``new_event_loop`` makes one.
LOOPS = {"asyncio": "asyncio", "uvloop": "uvloop"}
#: Why a loop cannot run on this platform (the tests are skipped with the reason).
UNSUPPORTED = {("uvloop", "win32"): "uvloop has no Windows build"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        choices=sorted(LOOPS),
        default="asyncio",
        help="the event loop every asyncio test runs on (default: asyncio's own)",
    )


def _loop_name(config: pytest.Config) -> str:
    return str(config.getoption("loop"))


def pytest_configure(config: pytest.Config) -> None:
    name = _loop_name(config)
    if name == "asyncio" or (name, sys.platform) in UNSUPPORTED:
        return
    try:
        importlib.import_module(LOOPS[name])
    except ImportError as exc:
        raise pytest.UsageError(f"--loop={name}: {exc} (uv sync installs it)") from exc


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = UNSUPPORTED.get((_loop_name(config), sys.platform))
    if reason is not None:
        skip = pytest.mark.skip(reason=f"--loop={_loop_name(config)}: {reason}")
        for item in items:
            item.add_marker(skip)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The loop of ``--loop`` for every asyncio test (one factory: the test ids stay)."""
    name = _loop_name(config)
    if (name, sys.platform) in UNSUPPORTED:
        return {"asyncio": asyncio.new_event_loop}
    return {name: importlib.import_module(LOOPS[name]).new_event_loop}


@pytest.fixture(scope="session")
def self_signed_cert() -> Cert:
    return Cert.generate()


@pytest.fixture
async def start_server(self_signed_cert: Cert) -> AsyncIterator[StartServer]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(*args: Any, **kwargs: Any) -> Served:
            return await stack.enter_async_context(serve(self_signed_cert, *args, **kwargs))

        yield start
