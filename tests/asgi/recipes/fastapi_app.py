"""Recipe: one FastAPI application object whose HTTP routes uvicorn serves over TCP and
whose WebTransport endpoint ``web_transport.asgi`` serves over UDP, on the same port
number::

    uvicorn fastapi_app:app --port 4433 &              # HTTP/1.1 over TCP
    web-transport serve --app fastapi_app:app --bind 127.0.0.1:4433   # WebTransport, UDP

Starlette's router only takes ``http``, ``websocket`` and ``lifespan`` scopes (it asserts
the type), so a ``webtransport`` scope must be answered before it reaches the router:
:class:`WebTransportRoutes` is an ordinary Starlette middleware that does that by path
(Starlette's outer middlewares pass scopes other than ``http`` through unchanged). The
lifespan runs in each server, so ``app.state`` is set up in both processes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send


class WebTransportRoutes:
    """Answer ``webtransport`` scopes by path before Starlette's router (404 for other
    paths); pass every other scope on."""

    def __init__(self, app: ASGIApp, routes: dict[str, ASGIApp]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "webtransport":
            await self.app(scope, receive, send)
            return
        endpoint = self.routes.get(scope["path"])
        if endpoint is None:
            await receive()
            await send({"type": "webtransport.reject", "status": 404})
            return
        await endpoint(scope, receive, send)


async def chat(scope: Scope, receive: Receive, send: Send) -> None:
    """Upper-cases every stream back to its sender; greets on a stream of its own."""
    await receive()  # webtransport.connect
    name = scope["state"]["greeting"]
    await send({"type": "webtransport.accept"})
    await send({"type": "webtransport.stream.open", "unidirectional": True})
    opened = await receive()
    await send(
        {
            "type": "webtransport.stream.send",
            "stream": opened["stream"],
            "data": name.encode(),
            "end_stream": True,
        }
    )
    while (event := await receive())["type"] != "webtransport.disconnect":
        if event["type"] == "webtransport.stream.receive":
            await send(
                {
                    "type": "webtransport.stream.send",
                    "stream": event["stream"],
                    "data": event["data"].upper(),
                    "end_stream": event["end_stream"],
                }
            )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, Any]]:
    yield {"greeting": "hello from FastAPI"}


app = FastAPI(
    lifespan=lifespan, middleware=[Middleware(WebTransportRoutes, routes={"/chat": chat})]
)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world", "webtransport": "/chat"}
