"""``Operation``, the awaitable every async method returns: it is a registered Coroutine
(create_task/gather/wait_for accept it), ``close()`` and ``throw()`` cancel the work, and
a read cancelled through either keeps its data for the next read. Also Server.close's
``timeout`` argument and connecting to a closed server."""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
from collections.abc import Callable
from typing import Any

import pytest
import web_transport as wt

from .conftest import WAIT, Pair

pytestmark = pytest.mark.timeout(60)


async def test_async_methods_return_operations(pair: Pair) -> None:
    op = pair.session.open_bi()
    assert isinstance(op, wt._web_transport.Operation)
    assert isinstance(op, collections.abc.Coroutine)
    assert isinstance(op, collections.abc.Awaitable)
    assert inspect.isawaitable(op)
    send, recv = await op
    ops = [
        send.write(b"x"),
        send.finish(),
        pair.session.wait_closed(),
        pair.peer.accept_bi(),
        pair.srv.server.wait_closed(),
    ]
    assert all(isinstance(o, wt._web_transport.Operation) for o in ops)
    done = await asyncio.wait_for(asyncio.gather(ops[0], ops[1], ops[3]), WAIT)
    assert done[0] is None
    assert done[1] is None
    _, precv = done[2]
    assert await asyncio.wait_for(precv.read(), WAIT) == b"x"
    for o in (ops[2], ops[4]):
        o.close()  # cancel the waits we do not need
    del recv


async def test_create_task_and_wait_for_accept_operations(pair: Pair) -> None:
    task = asyncio.create_task(pair.peer.accept_uni())
    send = await asyncio.wait_for(pair.session.open_uni(), WAIT)
    await send.write(b"task")
    await send.finish()
    recv = await asyncio.wait_for(task, WAIT)
    assert await asyncio.wait_for(recv.read(), WAIT) == b"task"


@pytest.mark.parametrize("how", ["close", "throw"])
async def test_cancelling_an_operation_keeps_read_data(pair: Pair, how: str) -> None:
    send, _ = await pair.session.open_bi()
    await send.write(b"abc")
    _, precv = await asyncio.wait_for(pair.peer.accept_bi(), WAIT)
    await asyncio.sleep(0.1)  # "abc" is buffered: the read completes at once
    op = precv.read(100)
    if how == "close":
        op.close()
    else:
        with pytest.raises(asyncio.CancelledError):
            op.throw(asyncio.CancelledError())
    await send.write(b"def")
    await send.finish()
    assert await asyncio.wait_for(precv.read(), WAIT) == b"abcdef"


async def test_closing_a_pending_operation_cancels_it(pair: Pair) -> None:
    op = pair.peer.accept_uni()
    op.close()
    # The accept was withdrawn: the next stream goes to the next accept.
    send = await asyncio.wait_for(pair.session.open_uni(), WAIT)
    await send.write(b"next")
    await send.finish()
    recv = await asyncio.wait_for(pair.peer.accept_uni(), WAIT)
    assert await asyncio.wait_for(recv.read(), WAIT) == b"next"


async def test_server_close_timeout_validation(start_server: Callable[..., Any]) -> None:
    srv = await start_server()
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout"):
            srv.server.close(timeout=bad)
    with pytest.raises(TypeError):
        srv.server.close(timeout="1")
    with pytest.raises(ValueError, match="reason"):
        srv.server.close(reason="x" * 1025)
    # Nothing was closed by the failed calls.
    async with srv.client() as client:
        session = await asyncio.wait_for(client.connect(srv.url), WAIT)
        srv.server.close(3, "bye", timeout=0.5)
        await asyncio.wait_for(session.wait_closed(), WAIT)
        reason = session.close_reason
        assert isinstance(reason, wt.SessionClosedByPeer)
        assert (reason.code, reason.reason) == (3, "bye")
    await asyncio.wait_for(srv.server.wait_closed(), WAIT)


async def test_connecting_to_a_closed_server_fails(start_server: Callable[..., Any]) -> None:
    srv = await start_server()
    srv.server.close()
    await asyncio.wait_for(srv.server.wait_closed(), WAIT)
    async with srv.client(max_idle_timeout=1.0) as client:
        with pytest.raises(wt.ConnectError):
            await asyncio.wait_for(client.connect(srv.url), WAIT)
