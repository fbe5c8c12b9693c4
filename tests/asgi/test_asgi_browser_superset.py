"""The superset driven from Chromium and Firefox (W3C WebTransport API): an ASGI
application plays the server role of tests/interop's page scenarios (page.js) with the
superset's events, and each test checks both what the browser saw and what the
application received. Firefox's known gaps (docs/interop_scenarios.py KNOWN_GAPS: no
``protocols`` option, no stream error code on a reset stream, no STOP_SENDING from a
cancelled reader) are xfails here too."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from docs import interop_scenarios as scenarios
from tests.asgi.conftest import WAIT, ServeApp

STREAM_SEND = "webtransport.stream.send"
UNI_PAYLOAD = b"from the ASGI application, on a stream it opened"


class Roles:
    """One ASGI application; ``scope["path"]`` picks the role. ``seen`` collects the
    events each role was waiting for."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "webtransport":
            return
        await receive()
        role = scope["path"].strip("/")
        if role == "reject":
            await send({"type": "webtransport.reject", "status": 404})
            return
        subprotocol = scope["subprotocols"][-1] if scope["subprotocols"] else None
        await send({"type": "webtransport.accept", "subprotocol": subprotocol})
        await getattr(self, role)(receive, send)

    async def until(self, receive: Any, kind: str) -> dict[str, Any]:
        while (event := await receive())["type"] != kind:
            if event["type"] == "webtransport.disconnect":
                raise AssertionError(f"disconnected while waiting for {kind}: {event}")
        self.seen.append(event)
        return event

    async def ended(self, receive: Any) -> int:
        """The id of the next stream whose end arrives."""
        while True:
            event = await receive()
            if event["type"] == "webtransport.stream.receive" and event["end_stream"]:
                return event["stream"]

    async def proto(self, receive: Any, send: Any) -> None:
        await send({"type": "webtransport.close", "code": 4000, "reason": "proto"})

    async def close(self, receive: Any, send: Any) -> None:
        sid = await self.ended(receive)
        await send({"type": STREAM_SEND, "stream": sid, "data": b"hi back", "end_stream": True})
        await self.until(receive, "webtransport.disconnect")

    async def reset(self, receive: Any, send: Any) -> None:
        sid = await self.ended(receive)
        await send({"type": "webtransport.stream.reset", "stream": sid, "code": 7})
        await self.until(receive, "webtransport.disconnect")

    async def resetby(self, receive: Any, send: Any) -> None:
        event = await self.until(receive, "webtransport.stream.receive")
        await send({"type": STREAM_SEND, "stream": event["stream"], "data": b"got"})
        await self.until(receive, "webtransport.stream.reset")
        await send({"type": "webtransport.close", "code": 0, "reason": "seen"})

    async def stop(self, receive: Any, send: Any) -> None:
        event = await self.until(receive, "webtransport.stream.receive")
        stop = {"type": "webtransport.stream.stop_sending", "stream": event["stream"], "code": 5}
        await send(stop)
        await self.until(receive, "webtransport.disconnect")

    async def stopby(self, receive: Any, send: Any) -> None:
        sid = await self.ended(receive)
        for _ in range(500):  # the browser's STOP_SENDING shows on a send (bounded)
            await send({"type": STREAM_SEND, "stream": sid, "data": b"data"})
            try:
                event = await asyncio.wait_for(receive(), 0.02)
            except TimeoutError:
                continue
            if event["type"] == "webtransport.stream.stop_sending":
                self.seen.append(event)
                break
        await send({"type": "webtransport.close", "code": 0, "reason": "seen"})

    async def uni(self, receive: Any, send: Any) -> None:
        await self.ended(receive)  # the page's "ready"
        await send({"type": "webtransport.stream.open", "unidirectional": True})
        sid = (await self.until(receive, "webtransport.stream.opened"))["stream"]
        await send({"type": STREAM_SEND, "stream": sid, "data": UNI_PAYLOAD, "end_stream": True})
        await self.until(receive, "webtransport.disconnect")

    async def bidi(self, receive: Any, send: Any) -> None:
        await self.ended(receive)  # the page's "ready"
        await send({"type": "webtransport.stream.open"})
        sid = (await self.until(receive, "webtransport.stream.opened"))["stream"]
        await send({"type": STREAM_SEND, "stream": sid, "data": b"ping", "end_stream": True})
        reply = b""
        while True:
            event = await receive()
            if event["type"] == "webtransport.stream.receive" and event["stream"] == sid:
                reply += event["data"]
                if event["end_stream"]:
                    break
        self.seen.append({"reply": reply})
        await send({"type": "webtransport.close", "code": 0, "reason": "bye"})


def known_gap(request: pytest.FixtureRequest, page: Any, scenario_id: str) -> None:
    """An xfail when this browser has a known gap in ``scenario_id``. Not strict: here
    Firefox 140 reported the stream error code of a reset stream (reset-by-us) in 1 run
    of 4, so a pass is shown as XPASS rather than failing the run."""
    gap = scenarios.KNOWN_GAPS.get((scenario_id, page.peer))
    if gap is not None:
        request.applymarker(pytest.mark.xfail(strict=False, reason=f"{gap.cause}: {gap.detail}"))


async def play(serve_app: ServeApp, page: Any, role: str, scenario: str, **extra: Any):
    roles = Roles()
    served = await serve_app(roles)
    args = {"url": served.url(f"/{role}"), "hash": list(served.cert_hash), **extra}
    result = await page.run(scenario, args, within=WAIT * 4)
    await served.idle()
    return result, roles.seen


async def test_subprotocol_and_close_code(
    serve_app: ServeApp, browser_page: Any, request: pytest.FixtureRequest
) -> None:
    known_gap(request, browser_page, "subprotocol")
    result, _ = await play(serve_app, browser_page, "proto", "connectOnly", protocols=["v1", "v2"])
    assert result == {"protocol": "v2", "closed": {"closeCode": 4000, "reason": "proto"}}


async def test_reject(serve_app: ServeApp, browser_page: Any) -> None:
    result, _ = await play(serve_app, browser_page, "reject", "connectFails")
    assert result["failed"] is True


async def test_end_stream_and_disconnect(serve_app: ServeApp, browser_page: Any) -> None:
    result, seen = await play(
        serve_app, browser_page, "close", "closeWith", code=4242, reason="from Chromium"
    )
    assert result["reply"] == "hi back"
    assert seen == [{"type": "webtransport.disconnect", "code": 4242, "reason": "from Chromium"}]


@pytest.mark.parametrize(
    ("role", "scenario", "code", "scenario_id"),
    [
        ("reset", "readUntilReset", 7, "reset-by-us"),
        ("stop", "writeUntilStopped", 5, "stop-sending-by-us"),
    ],
)
async def test_reset_and_stop_sending_by_the_app(
    serve_app: ServeApp,
    browser_page: Any,
    request: pytest.FixtureRequest,
    role: str,
    scenario: str,
    code: int,
    scenario_id: str,
) -> None:
    known_gap(request, browser_page, scenario_id)
    result, _ = await play(serve_app, browser_page, role, scenario)
    error = result["error"]
    assert (error["name"], error["source"], error["streamErrorCode"]) == (
        "WebTransportError",
        "stream",
        code,
    )


@pytest.mark.parametrize(
    ("role", "scenario", "kind", "scenario_id"),
    [
        ("resetby", "resetWith", "webtransport.stream.reset", "reset-by-peer"),
        ("stopby", "stopWith", "webtransport.stream.stop_sending", "stop-sending-by-peer"),
    ],
)
async def test_reset_and_stop_sending_by_the_browser(
    serve_app: ServeApp,
    browser_page: Any,
    request: pytest.FixtureRequest,
    role: str,
    scenario: str,
    kind: str,
    scenario_id: str,
) -> None:
    known_gap(request, browser_page, scenario_id)
    result, seen = await play(serve_app, browser_page, role, scenario, code=42)
    assert [(e["type"], e["code"]) for e in seen if e["type"] == kind] == [(kind, 42)]
    assert result["closed"] == {"closeCode": 0, "reason": "seen"}


async def test_app_opened_uni_stream(serve_app: ServeApp, browser_page: Any) -> None:
    result, seen = await play(serve_app, browser_page, "uni", "uniFromServer")
    assert result["length"] == len(UNI_PAYLOAD)
    assert result["sha256"] == hashlib.sha256(UNI_PAYLOAD).hexdigest()
    assert seen[0] == {"type": "webtransport.stream.opened", "stream": 3, "unidirectional": True}


async def test_app_opened_bidi_stream(serve_app: ServeApp, firefox_page: Any) -> None:
    """Firefox only: in Chromium 148 this scenario crashed the page's renderer ("Target
    crashed") in about 1 run of 3 against web_transport.asgi (the same page scenario
    against the direct API did not, 3 of 3; not explained yet). The Client covers the
    application-opened bidirectional stream in test_asgi_events.py."""
    result, seen = await play(serve_app, firefox_page, "bidi", "serverBidi")
    assert result["text"] == "ping"
    assert seen[0] == {"type": "webtransport.stream.opened", "stream": 1, "unidirectional": False}
    assert seen[1] == {"reply": b"reply:ping"}
    assert result["closed"] == {"closeCode": 0, "reason": "bye"}
