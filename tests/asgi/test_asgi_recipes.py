"""The framework recipes of docs/asgi.md run: a raw ASGI application, and one FastAPI
application object served by uvicorn (HTTP over TCP) and by web_transport.asgi
(WebTransport over UDP) on the same port number."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
import uvicorn
import web_transport as wt
from web_transport import asgi

from tests.asgi.conftest import WAIT, ServeApp
from tests.asgi.recipes import fastapi_app, raw_app


async def test_raw_recipe_echo_count_and_404(serve_app: ServeApp) -> None:
    served = await serve_app(raw_app.app)
    async with served.client() as client:
        session = await client.connect(served.url("/echo"))
        send, recv = await session.open_bi()
        await send.write(b"raw asgi")
        await send.finish()
        assert await recv.read() == b"raw asgi"
        session.close()
        session = await client.connect(served.url("/count"))
        send, recv = await session.open_bi()
        await send.write(bytes(100_000))
        await send.finish()
        assert int.from_bytes(await recv.read(), "big") == 100_000
        session.close()
        with pytest.raises(wt.SessionRejected) as err:
            await client.connect(served.url("/nowhere"))
        assert err.value.status_code == 404


@contextlib.asynccontextmanager
async def uvicorn_on(app: Any, port: int) -> AsyncGenerator[uvicorn.Server]:
    """uvicorn serving ``app`` over TCP on 127.0.0.1:``port`` (raises OSError if taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", port))  # fails now rather than inside uvicorn
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield server
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await asyncio.gather(task, return_exceptions=True)


async def test_fastapi_recipe_http_over_tcp_and_webtransport_over_udp_same_port(
    serve_app: ServeApp,
) -> None:
    app = fastapi_app.app
    for _ in range(5):  # the UDP port's TCP twin may be taken: pick another (bounded)
        served = await serve_app(app)
        try:
            http = uvicorn_on(app, served.port)
            await http.__aenter__()
        except OSError:
            served.server.close()
            continue
        break
    else:
        pytest.fail("no port free for both UDP and TCP in 5 tries")
    try:
        async with httpx.AsyncClient() as web:
            reply = await web.get(f"http://127.0.0.1:{served.port}/hello", timeout=WAIT)
        assert reply.status_code == 200
        assert reply.json() == {"hello": "world", "webtransport": "/chat"}
        async with served.client() as client:
            session = await client.connect(served.url("/chat"))
            greeting = await (await session.accept_uni()).read()
            assert greeting == b"hello from FastAPI"  # from the lifespan state
            send, recv = await session.open_bi()
            await send.write(b"shout")
            await send.finish()
            assert await recv.read() == b"SHOUT"
            session.close()
            with pytest.raises(wt.SessionRejected) as err:
                await client.connect(served.url("/not-a-route"))
            assert err.value.status_code == 404
    finally:
        await http.__aexit__(None, None, None)


async def test_starlette_router_alone_refuses_webtransport_scopes(serve_app: ServeApp) -> None:
    """Why the recipe needs its middleware: Starlette's router asserts the scope type,
    so an application without it answers every CONNECT with 500."""
    from fastapi import FastAPI

    served = await serve_app(FastAPI())
    async with served.client() as client:
        with pytest.raises(wt.SessionRejected) as err:
            await client.connect(served.url("/chat"))
    assert err.value.status_code == asgi.APP_ERROR_STATUS
