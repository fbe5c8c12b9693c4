"""Fixtures for the loopback integration tests: a connected session pair
(:func:`tests.support.peers.pair`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import web_transport as wt

from tests.support import peers
from tests.support.peers import WAIT, Cert, Pair

__all__ = ["WAIT", "Pair", "closed_by_peer_while_pending"]


@pytest.fixture
async def connect_pair(self_signed_cert: Cert) -> AsyncIterator[Callable[..., Awaitable[Pair]]]:
    """Factory: :func:`tests.support.peers.pair` (its keyword arguments) until teardown."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**kwargs: Any) -> Pair:
            return await stack.enter_async_context(peers.pair(self_signed_cert, **kwargs))

        yield make


@pytest.fixture
async def pair(connect_pair: Callable[..., Awaitable[Pair]]) -> Pair:
    """A connected session pair with default settings."""
    return await connect_pair()


async def closed_by_peer_while_pending(
    operation: Awaitable[Any], close: Callable[[], object]
) -> wt.SessionClosedByPeer:
    """Start ``operation``, let it block, then run ``close`` (the peer closing): the
    operation must raise ``SessionClosedByPeer``, which is returned."""
    pending = asyncio.ensure_future(operation)
    await asyncio.sleep(0.05)
    close()
    with pytest.raises(wt.SessionClosedByPeer) as info:
        await asyncio.wait_for(pending, WAIT)
    return info.value
