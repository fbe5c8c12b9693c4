"""``Operation``, the awaitable every async method returns: it is a registered Coroutine
(create_task/gather/wait_for accept it), ``close()`` and ``throw()`` cancel the work, and
a read cancelled through either keeps its data for the next read. Also Server.close's
``timeout`` argument and connecting to a closed server."""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
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
    ops: list[Any] = [
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
    await asyncio.sleep(0.05)  # the cancellation has reached the runtime
    # The accept was withdrawn: the next stream goes to the next accept. (A stream that
    # arrives while the cancellation is under way: test_cancelled_accept_keeps_stream.)
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


def awaited_future_done(task: asyncio.Task[Any]) -> bool:
    """Whether the future ``task`` waits on is already resolved (its wake-up is queued)."""
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and waiter.done()


async def cancel_after_result_arrived(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` after its operation produced a result but before it resumed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    # Poll one loop iteration at a time: no event marks "resolved, not yet resumed".
    while not awaited_future_done(task) and not task.done() and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("kind", ["uni", "bi"])
async def test_cancelled_accept_keeps_stream(pair: Pair, kind: str) -> None:
    task = asyncio.ensure_future(pair.peer.accept_uni() if kind == "uni" else pair.peer.accept_bi())
    await asyncio.sleep(0)  # the task waits on the accept
    if kind == "uni":
        send = await asyncio.wait_for(pair.session.open_uni(), WAIT)
    else:
        send, _ = await asyncio.wait_for(pair.session.open_bi(), WAIT)
    await send.write(b"first")
    await send.finish()
    await cancel_after_result_arrived(task)
    # The stream the cancelled accept had taken is handed to the next accept.
    if kind == "uni":
        recv = await asyncio.wait_for(pair.peer.accept_uni(), 2)
    else:
        _, recv = await asyncio.wait_for(pair.peer.accept_bi(), 2)
    assert await asyncio.wait_for(recv.read(), WAIT) == b"first"


async def test_cancelled_server_accept_keeps_request(self_signed_cert: Any) -> None:
    cert = self_signed_cert
    async with wt.Server(
        certificate_chain=cert.certificate, private_key=cert.private_key, bind="127.0.0.1:0"
    ) as server:
        task = asyncio.ensure_future(server.accept())
        await asyncio.sleep(0)
        async with wt.Client(server_certificate_hashes=[cert.hash]) as client:
            connecting = asyncio.ensure_future(
                client.connect(f"https://127.0.0.1:{server.local_addr[1]}/kept")
            )
            try:
                await cancel_after_result_arrived(task)
                request = await asyncio.wait_for(server.accept(), 2)
                assert request is not None
                assert request.url.endswith("/kept")
                await asyncio.wait_for(request.accept(), WAIT)
                session = await asyncio.wait_for(connecting, WAIT)
                assert session.close_reason is None
            finally:
                connecting.cancel()
                with contextlib.suppress(BaseException):
                    await connecting
