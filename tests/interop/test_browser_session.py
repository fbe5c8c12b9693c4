"""Browser (Chromium, Firefox) <-> our Server: sessions.

Proves, for each browser: ``serverCertificateHashes`` with a ``generate_self_signed``
certificate (and a wrong hash refused), a 50-year certificate refused when pinned,
a rejected session (403), close code and reason both ways (the browser's ``closed``
promise <-> our ``SessionClosedByPeer``), subprotocol negotiation, the request URL and
Origin header, an abruptly closed page (our pending read ends, the session closes, nothing
hangs, the server serves the next page), and 51 sequential sessions on one server.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import web_transport as wt

from docs import interop_scenarios as scenarios
from tests.interop import server_roles as roles
from tests.interop.browsers import BrowserPage
from tests.interop.server_roles import bounded, running_server, together, url_of
from tests.support.peers import Cert, Served


def args(server: Served, cert: Cert, path: str = "/interop", **extra: object) -> dict[str, object]:
    return {"url": url_of(server, path), "hash": list(cert.hash), **extra}


def assert_connect_failed(result: Any) -> None:
    """The page's ``connectFails`` saw the connection fail with a WebTransportError."""
    assert result["failed"] is True
    assert result["error"]["name"] == "WebTransportError"


@pytest.mark.interop("cert-hash-pinning")
async def test_cert_hash_pinning(browser: BrowserPage, cert: Cert) -> None:
    async with running_server(cert) as server:
        wrong = {**args(server, cert), "hash": list(reversed(cert.hash))}
        refused = await browser.run("connectFails", wrong)
        assert_connect_failed(refused)
        request, result = await together(
            roles.inspect_request(server), browser.run("connectOnly", args(server, cert))
        )
    assert request.url == url_of(server)
    assert result["closed"] == {"closeCode": 0, "reason": "inspected"}


@pytest.mark.interop("cert-hash-over-14-days")
async def test_cert_hash_over_14_days(browser: BrowserPage, long_cert: Cert) -> None:
    async with running_server(long_cert) as server:
        result = await browser.run("connectFails", args(server, long_cert))
    assert_connect_failed(result)


@pytest.mark.interop("session-rejected")
async def test_session_rejected(browser: BrowserPage, cert: Cert) -> None:
    async with running_server(cert) as server:
        request, result = await together(
            roles.reject(server, 403), browser.run("connectFails", args(server, cert))
        )
    assert request.url == url_of(server)
    assert_connect_failed(result)


@pytest.mark.interop("close-by-us")
async def test_close_by_us(browser: BrowserPage, cert: Cert) -> None:
    async with running_server(cert) as server:
        _, result = await together(
            roles.close_by_us(server), browser.run("awaitClose", args(server, cert))
        )
    assert result["closed"] == {"closeCode": roles.CLOSE_CODE, "reason": roles.CLOSE_REASON}


@pytest.mark.interop("close-by-peer")
async def test_close_by_peer(browser: BrowserPage, cert: Cert) -> None:
    page_args: dict[str, object] = {
        "code": roles.PEER_CLOSE_CODE,
        "reason": roles.PEER_CLOSE_REASON,
    }
    async with running_server(cert) as server:
        # Up to 3 sessions: with Firefox the capsule is occasionally lost behind the
        # browser's CONNECTION_CLOSE (see sequential-sessions); the code must arrive intact
        # in one, and any other must be exactly that loss, not a wrong code.
        for _ in range(3):
            closed, result = await together(
                roles.close_by_peer(server),
                browser.run("closeWith", {**args(server, cert), **page_args}),
            )
            assert result["reply"] == "hi"
            if (closed.source, closed.code, closed.reason) not in roles.LOST_CAPSULE:
                break
            assert browser.peer == scenarios.FIREFOX
    assert (closed.source, closed.code, closed.reason) == (
        "session",
        roles.PEER_CLOSE_CODE,
        roles.PEER_CLOSE_REASON,
    )


@pytest.mark.interop("subprotocol")
async def test_subprotocol(browser: BrowserPage, cert: Cert) -> None:
    offered = ["chat.v2", "chat.v1"]
    async with running_server(cert) as server:
        request, result = await together(
            roles.inspect_request(server),
            browser.run("connectOnly", args(server, cert, protocols=offered)),
        )
    assert request.protocols == offered
    assert result["protocol"] == "chat.v1"


@pytest.mark.interop("request-headers")
async def test_request_headers(browser: BrowserPage, cert: Cert) -> None:
    path = "/interop/headers?room=7&x=y"
    async with running_server(cert) as server:
        request, _ = await together(
            roles.inspect_request(server), browser.run("connectOnly", args(server, cert, path))
        )
    assert request.url == url_of(server, path)
    assert request.headers["origin"] == browser.origin
    assert request.remote_address[0] == "127.0.0.1"


async def _close_page_mid_stream(browser: BrowserPage, cert: Cert, server: Served) -> wt.Session:
    """Open a session with a half-written stream, close the page, and return our session
    once it is closed. Every wait is bounded: nothing may hang."""
    (_, session), opened = await together(
        roles.accept_session(server), browser.run("leaveOpen", args(server, cert))
    )
    assert opened == {"opened": True}
    _send, recv = await bounded(session.accept_bi())
    assert await bounded(recv.readexactly(7)) == b"partial"
    await browser.close()
    # The pending read ends either way: the browser may FIN or reset the stream, or the
    # session's end fails it. (Firefox 140 FINs open streams when a tab closes.)
    with contextlib.suppress(wt.SessionError, wt.StreamError):
        await bounded(recv.read(), 20)
    # Generous: the 5 s idle timeout ends it even if the browser sent nothing.
    await bounded(session.wait_closed(), 20)
    return session


@pytest.mark.interop("page-closed-abruptly")
async def test_page_closed_abruptly(browser: BrowserPage, cert: Cert) -> None:
    # A short idle timeout bounds the wait if the browser sends nothing on page close.
    async with running_server(cert, max_idle_timeout=5.0) as server:
        session = await _close_page_mid_stream(browser, cert, server)
        assert isinstance(session.close_reason, wt.SessionError)
        # The server is unaffected: a new page gets a working session.
        page = await browser.another()
        try:
            echoed, result = await together(
                roles.echo_bidi(server), page.run("bidiEcho", args(server, cert, size=1024))
            )
        finally:
            await page.close()
    assert echoed == [roles.pattern(1024)]
    assert result["sha256"] == roles.sha256_hex(roles.pattern(1024))


@pytest.mark.interop("sequential-sessions")
async def test_sequential_sessions(browser: BrowserPage, cert: Cert) -> None:
    count = roles.SEQUENTIAL
    async with running_server(cert) as server:
        closes, result = await together(
            roles.sequential(server, count),
            browser.run("sequential", args(server, cert, count=count)),
        )
    assert result["ok"] == count
    exact = roles.exact_closes(count)
    lost = [(got, want) for got, want in zip(closes, exact, strict=True) if got != want]
    if browser.peer == scenarios.FIREFOX:
        # Firefox 140 sometimes closes the connection right behind the capsule, and then
        # the capsule's code and reason are lost on our side (a binding bug, pinned
        # deterministically by close-capsule-with-connection-close).
        assert all(got in roles.LOST_CAPSULE for got, _ in lost), lost
        assert len(lost) < count // 2, lost
    else:
        assert lost == []
