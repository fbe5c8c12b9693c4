"""Recipe: a raw ASGI 3 application with a WebTransport endpoint, no framework.

Serve it with ``web-transport serve --app raw_app:app`` (from this directory) or
``web_transport.asgi.serve(app, server)``. ``/echo`` echoes every stream (to its end)
and every datagram; ``/count`` answers each stream with the number of bytes it carried;
other paths are rejected with 404. ``create_app`` is the same application from a
factory (``--factory``).
"""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]


async def echo(receive: Any, send: Any) -> None:
    await send({"type": "webtransport.accept"})
    while True:
        event = await receive()
        kind = event["type"]
        if kind == "webtransport.stream.receive":
            await send(
                {
                    "type": "webtransport.stream.send",
                    "stream": event["stream"],
                    "data": event["data"],
                    "end_stream": event["end_stream"],
                }
            )
        elif kind == "webtransport.datagram.receive":
            await send({"type": "webtransport.datagram.send", "data": event["data"]})
        elif kind == "webtransport.disconnect":
            return


async def count(receive: Any, send: Any) -> None:
    await send({"type": "webtransport.accept"})
    counts: dict[int, int] = {}
    while True:
        event = await receive()
        if event["type"] == "webtransport.disconnect":
            return
        if event["type"] != "webtransport.stream.receive":
            continue
        sid = event["stream"]
        counts[sid] = counts.get(sid, 0) + len(event["data"])
        if event["end_stream"]:
            total = counts.pop(sid)
            await send(
                {
                    "type": "webtransport.stream.send",
                    "stream": sid,
                    "data": total.to_bytes(8, "big"),
                    "end_stream": True,
                }
            )


ROUTES = {"/echo": echo, "/count": count}


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "webtransport":
        raise RuntimeError(f"this recipe serves WebTransport only, not {scope['type']!r}")
    assert (await receive())["type"] == "webtransport.connect"
    endpoint = ROUTES.get(scope["path"])
    if endpoint is None:
        await send({"type": "webtransport.reject", "status": 404})
        return
    await endpoint(receive, send)


def create_app() -> Any:
    """The application, from a factory (``web-transport serve --factory``)."""
    return app
