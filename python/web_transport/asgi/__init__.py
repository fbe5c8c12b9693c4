"""WebTransport for ASGI applications: serve an ASGI 3 application's WebTransport
sessions on a :class:`web_transport.Server`.

Every WebTransport CONNECT (draft-ietf-webtrans-http3 §3.2) becomes one call of the
application with a ``webtransport`` scope. The events are aioquic's
(``examples/http3_server.py``), so applications written for aioquic's server run
unchanged, plus a documented superset: end of stream, streams the application opens,
stream resets and STOP_SENDING both ways, subprotocols, rejection with an HTTP status,
close codes and reasons, and a disconnect event. ``docs/asgi.md`` is the specification.

Example::

    import asyncio
    import web_transport
    from web_transport import asgi

    async def app(scope, receive, send):
        if scope["type"] != "webtransport":
            return
        assert (await receive())["type"] == "webtransport.connect"
        await send({"type": "webtransport.accept"})
        while (event := await receive())["type"] != "webtransport.disconnect":
            if event["type"] == "webtransport.stream.receive":
                await send({"type": "webtransport.stream.send", "stream": event["stream"],
                            "data": event["data"], "end_stream": event["end_stream"]})

    async def main():
        cert, key = web_transport.generate_self_signed(["localhost"])
        async with web_transport.Server(certificate_chain=cert, private_key=key) as server:
            await asgi.serve(app, server)

Command line: ``web-transport serve --app module:attr`` (``--factory`` when ``attr``
is a function returning the application).
"""

from web_transport.asgi.config import Config, LifespanMode
from web_transport.asgi.events import (
    ACCEPT_TIMEOUT_STATUS,
    APP_ERROR_STATUS,
    CLOSE_BEFORE_ACCEPT_STATUS,
    INTERNAL_ERROR,
    SPEC_VERSION,
)
from web_transport.asgi.lifespan import LifespanFailed
from web_transport.asgi.loader import load_app
from web_transport.asgi.scope import build_scope
from web_transport.asgi.server import ASGIServer, serve
from web_transport.asgi.session import ASGIApp

__all__ = [
    "ACCEPT_TIMEOUT_STATUS",
    "APP_ERROR_STATUS",
    "CLOSE_BEFORE_ACCEPT_STATUS",
    "INTERNAL_ERROR",
    "SPEC_VERSION",
    "ASGIApp",
    "ASGIServer",
    "Config",
    "LifespanFailed",
    "LifespanMode",
    "build_scope",
    "load_app",
    "serve",
]
