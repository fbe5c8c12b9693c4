"""Fixtures for the loopback integration tests: a connected session pair."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import web_transport as wt

WAIT = 15.0


@dataclass
class Pair:
    """Both ends of one loopback session."""

    srv: Any  # conftest.RunningServer
    client: wt.Client
    session: wt.Session  # client side
    peer: wt.Session  # server side


@pytest.fixture
async def connect_pair(
    start_server: Callable[..., Awaitable[Any]],
) -> AsyncIterator[Callable[..., Awaitable[Pair]]]:
    """Factory: start a server (kwargs: server_kwargs / client_kwargs) and connect once."""
    clients: list[wt.Client] = []

    async def make(
        *,
        server_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        path: str = "/",
        **connect_kwargs: Any,
    ) -> Pair:
        srv = await start_server(**(server_kwargs or {}))
        client = srv.client(**(client_kwargs or {}))
        clients.append(client)
        async with asyncio.timeout(WAIT):
            session = await client.connect(srv.url_for(path), **connect_kwargs)
        peer = await srv.next_session()
        return Pair(srv, client, session, peer)

    yield make

    for client in clients:
        client.close()
    with contextlib.suppress(BaseException):
        async with asyncio.timeout(5.0):
            for client in clients:
                await client.wait_closed()


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
