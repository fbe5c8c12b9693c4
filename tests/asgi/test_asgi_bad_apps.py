"""The bad-application table (docs/asgi.md, "Applications that misbehave"): one test per
row, each asserting what the client sees, what is logged and that nothing is left
running."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
import web_transport as wt
from web_transport import asgi

from tests.asgi.conftest import WAIT, Accepted, Puppet, ServeApp, Served

LOGGER = "web_transport.asgi"


def webtransport_only(body: Any) -> Any:
    """An ASGI app running ``body(receive, send)`` for webtransport scopes (the lifespan
    scope returns: lifespan unsupported)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "webtransport":
            await body(receive, send)

    return app


async def closed_by_server(served: Served) -> wt.SessionClosedByPeer:
    """Connect to ``served`` and wait until the server closes the session; why."""
    async with served.client() as client:
        session = await client.connect(served.url())
        async with asyncio.timeout(WAIT):
            await session.wait_closed()
    reason = session.close_reason
    assert isinstance(reason, wt.SessionClosedByPeer)
    return reason


async def test_raises_before_accept_is_500(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("boom before accept")

    served = await serve_app(webtransport_only(body))
    assert await served.rejected() == asgi.APP_ERROR_STATUS == 500
    await served.idle()
    record = next(r for r in caplog.records if r.name == LOGGER and r.exc_info)
    assert "answered 500" in record.getMessage()
    assert "boom before accept" in caplog.text  # the traceback is logged


async def test_raises_after_accept_closes_with_internal_error(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "webtransport.accept"})
        raise RuntimeError("boom after accept")

    served = await serve_app(webtransport_only(body))
    reason = await closed_by_server(served)
    assert (reason.code, reason.reason) == (asgi.INTERNAL_ERROR, "ASGI application error")
    await served.idle()
    assert any(r.name == LOGGER and r.exc_info for r in caplog.records)
    assert "boom after accept" in caplog.text


async def test_returns_without_closing_closes_the_session(serve_app: ServeApp) -> None:
    async def body(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "webtransport.accept"})

    served = await serve_app(webtransport_only(body))
    reason = await closed_by_server(served)
    assert (reason.code, reason.reason) == (0, "")
    await served.idle()


async def test_returns_without_accepting_is_500(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(receive: Any, send: Any) -> None:
        await receive()

    served = await serve_app(webtransport_only(body))
    assert await served.rejected() == 500
    assert "returned without accepting" in caplog.text


@pytest.mark.parametrize(
    ("message", "error", "words"),
    [
        ({"type": "webtransport.send"}, ValueError, ["'webtransport.send'", "unknown"]),
        ({"data": b"x"}, TypeError, ["'type'"]),
        (
            {"type": "webtransport.datagram.send", "data": "text"},
            TypeError,
            ["'webtransport.datagram.send'", "'data'", "bytes", "str"],
        ),
        (
            {"type": "webtransport.stream.send", "stream": "0", "data": b""},
            TypeError,
            ["'webtransport.stream.send'", "'stream'", "int"],
        ),
        (
            {"type": "webtransport.stream.send", "stream": 0, "data": b"", "end_stream": 1},
            TypeError,
            ["'end_stream'", "bool"],
        ),
        (
            {"type": "webtransport.close", "code": 2**32},
            ValueError,
            ["'webtransport.close'", "'code'"],
        ),
        ({"type": "webtransport.stream.reset"}, ValueError, ["'stream'"]),
        (
            {"type": "webtransport.stream.send", "stream": 12, "data": b"x"},
            ValueError,
            ["'stream'", "12", "not an open stream"],
        ),
    ],
)
async def test_bad_event_raises_in_send(
    accepted: Accepted, message: Any, error: type[Exception], words: list[str]
) -> None:
    """An unknown event type or a wrong field raises in send(), naming the event and the
    field; the session goes on."""
    puppet, session = accepted.puppet, accepted.session
    with pytest.raises(error) as err:
        await puppet.send(message)
    for word in words:
        assert word in str(err.value)
    await puppet.send({"type": "webtransport.datagram.send", "data": b"still open"})
    async with asyncio.timeout(WAIT):
        assert await session.receive_datagram() == b"still open"


async def test_send_to_receive_only_stream_raises(accepted: Accepted) -> None:
    puppet, session = accepted.puppet, accepted.session
    uni = await session.open_uni()
    await uni.write(b"x")
    event = await puppet.next("webtransport.stream.receive")
    assert event["stream"] == 2  # client-initiated unidirectional (RFC 9000 §2.1)
    with pytest.raises(ValueError, match="receive-only"):
        await puppet.send({"type": "webtransport.stream.send", "stream": 2, "data": b"y"})


async def test_send_before_accept_raises(serve_app: ServeApp) -> None:
    puppet = Puppet()
    served = await serve_app(puppet)
    async with served.client() as client:
        connecting = asyncio.ensure_future(client.connect(served.url()))
        await puppet.started()
        await puppet.next("webtransport.connect")
        with pytest.raises(RuntimeError, match=r"before 'webtransport\.accept'"):
            await puppet.send({"type": "webtransport.datagram.send", "data": b"x"})
        await puppet.send({"type": "webtransport.accept"})
        session = await connecting
        session.close()


async def test_send_after_close_raises(accepted: Accepted) -> None:
    puppet = accepted.puppet
    await puppet.send({"type": "webtransport.close", "code": 1, "reason": "done"})
    with pytest.raises(wt.SessionClosedLocally, match="after the session was closed"):
        await puppet.send({"type": "webtransport.datagram.send", "data": b"late"})
    with pytest.raises(wt.SessionClosedLocally, match=r"'webtransport\.accept' after"):
        await puppet.send({"type": "webtransport.accept"})


async def test_cancelled_app_task_frees_its_session(serve_app: ServeApp) -> None:
    cancelled = asyncio.Event()

    async def body(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "webtransport.accept"})
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(WAIT)
        finally:
            cancelled.set()

    served = await serve_app(webtransport_only(body))
    async with served.client() as client:
        session = await client.connect(served.url())
        async with asyncio.timeout(WAIT):
            await cancelled.wait()
            await session.wait_closed()
    assert isinstance(session.close_reason, wt.SessionClosedByPeer)
    await served.idle()  # the runner and its tasks are gone
    assert served.asgi.active_sessions == 0


async def test_accept_timeout_is_504_and_cancels_the_app(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = asyncio.Event()

    async def body(receive: Any, send: Any) -> None:
        await receive()
        try:
            await asyncio.sleep(WAIT)  # never answers
        except asyncio.CancelledError:
            cancelled.set()
            raise

    served = await serve_app(webtransport_only(body), accept_timeout=0.2)
    assert await served.rejected() == asgi.ACCEPT_TIMEOUT_STATUS == 504
    assert cancelled.is_set()
    await served.idle()
    assert "did not accept within 0.2 s" in caplog.text


def test_config_validates() -> None:
    with pytest.raises(ValueError, match="accept_timeout"):
        asgi.Config(accept_timeout=0)
    with pytest.raises(ValueError, match="receive_queue_size"):
        asgi.Config(receive_queue_size=0)
    with pytest.raises(ValueError, match="lifespan"):
        asgi.Config(lifespan=cast(Any, "maybe"))


async def test_lifespan_startup_shutdown_and_state(serve_app: ServeApp) -> None:
    seen: list[str] = []
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                seen.append(event["type"])
                if event["type"] == "lifespan.startup":
                    scope["state"]["db"] = "connected"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        scopes.append(scope)
        await receive()
        await send({"type": "webtransport.reject", "status": 403})

    served = await serve_app(app)
    await served.rejected()
    assert scopes[0]["state"] == {"db": "connected"}
    served.server.close()
    async with asyncio.timeout(WAIT):
        await served.task
    assert seen == ["lifespan.startup", "lifespan.shutdown"]


async def test_lifespan_startup_failed_stops_serving(self_signed_cert: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    async with wt.Server(
        certificate_chain=self_signed_cert.certificate,
        private_key=self_signed_cert.private_key,
        bind="127.0.0.1:0",
    ) as server:
        with pytest.raises(asgi.LifespanFailed, match="no database"):
            await asyncio.wait_for(asgi.serve(app, server), WAIT)


async def test_lifespan_unsupported_is_tolerated(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    """An app that raises on the lifespan scope (as many do) still serves sessions."""
    caplog.set_level(logging.INFO, LOGGER)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "webtransport", "lifespan not supported"
        await receive()
        await send({"type": "webtransport.reject", "status": 418})

    served = await serve_app(app)
    assert await served.rejected() == 418
    assert "lifespan' protocol appears unsupported" in caplog.text


async def test_receive_from_two_tasks_at_once_raises(accepted: Accepted) -> None:
    puppet = accepted.puppet
    puppet.pump = False
    # The puppet's own loop is waiting in receive(): a second waiter is refused.
    with pytest.raises(RuntimeError, match="already awaited by another task"):
        await asyncio.wait_for(puppet.receive(), WAIT)


async def test_close_with_a_reason_too_long_raises_and_leaves_the_session_open(
    accepted: Accepted,
) -> None:
    puppet, session = accepted.puppet, accepted.session
    with pytest.raises(ValueError, match="reason"):
        await puppet.send({"type": "webtransport.close", "code": 1, "reason": "x" * 1025})
    await puppet.send({"type": "webtransport.datagram.send", "data": b"still open"})
    async with asyncio.timeout(WAIT):
        assert await session.receive_datagram() == b"still open"
