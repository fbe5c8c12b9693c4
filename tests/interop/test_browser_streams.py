"""Browser (Chromium, Firefox) <-> our Server: streams.

Proves, for each browser: bidirectional echo (1 KiB and 8 MiB, byte-exact by SHA-256),
unidirectional streams both ways, 200 concurrent bidirectional streams, a
server-initiated bidirectional stream, and RESET_STREAM / STOP_SENDING error codes both
ways (W3C ``WebTransportError.streamErrorCode`` <-> our ``StreamClosedByPeer.code``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import web_transport as wt

from tests.interop import server_roles as roles
from tests.interop.browsers import BrowserPage
from tests.interop.server_roles import pattern, running_server, sha256_hex, together, url_of
from tests.support.peers import Cert, Served

MANY_STREAMS = wt.TransportConfig(max_concurrent_bidi_streams=256)


def args(server: Served, cert: Cert, **extra: object) -> dict[str, object]:
    return {"url": url_of(server), "hash": list(cert.hash), **extra}


async def play[T](
    browser: BrowserPage,
    cert: Cert,
    role: Callable[[Served], Awaitable[T]],
    scenario: str,
    **extra: object,
) -> tuple[T, Any]:
    """Run ``role`` on a fresh server while the page runs ``scenario`` against it (with
    ``extra`` arguments); both results."""
    async with running_server(cert) as server:
        return await together(role(server), browser.run(scenario, args(server, cert, **extra)))


def assert_stream_error(result: Any, code: int) -> None:
    """The page's read or write failed with a stream WebTransportError carrying ``code``."""
    error = result["error"]
    assert isinstance(error, dict)
    assert error["name"] == "WebTransportError"
    assert error["source"] == "stream"
    assert error["streamErrorCode"] == code


@roles.BIDI_ECHO_SIZES
async def test_bidi_echo(browser: BrowserPage, cert: Cert, size: int) -> None:
    echoed, result = await play(browser, cert, roles.echo_bidi, "bidiEcho", size=size)
    expected = pattern(size)
    assert echoed == [expected]
    assert result["length"] == size
    assert result["sha256"] == sha256_hex(expected)
    assert result["closed"] == {"closeCode": 0, "reason": "done"}


@pytest.mark.interop("uni-to-peer")
async def test_uni_to_peer(browser: BrowserPage, cert: Cert) -> None:
    data = pattern(64 << 10)
    async with running_server(cert) as server:
        _, result = await together(
            roles.send_uni(server, data), browser.run("uniFromServer", args(server, cert))
        )
    assert result["length"] == len(data)
    assert result["sha256"] == sha256_hex(data)


@pytest.mark.interop("uni-from-peer")
async def test_uni_from_peer(browser: BrowserPage, cert: Cert) -> None:
    size = 64 << 10
    received, result = await play(browser, cert, roles.receive_uni, "uniToServer", size=size)
    assert received == pattern(size)
    assert result["closed"] == {"closeCode": 0, "reason": "received"}


@pytest.mark.interop("many-concurrent-bidi")
async def test_many_concurrent_bidi(browser: BrowserPage, cert: Cert) -> None:
    count = 200
    # Browsers reject createBidirectionalStream() once the peer's stream limit is used up
    # (W3C WebTransport, "stream ID exhaustion"); the CONNECT stream counts too.
    async with running_server(cert, transport=MANY_STREAMS) as server:
        echoed, result = await together(
            roles.echo_bidi(server, streams=count),
            browser.run("manyBidi", args(server, cert, count=count)),
        )
    assert result["ok"] == count
    expected = {f"stream-{i}-".encode() + b"x" * (i % 50) for i in range(count)}
    assert set(echoed) == expected


@pytest.mark.interop("server-initiated-bidi")
async def test_server_initiated_bidi(browser: BrowserPage, cert: Cert) -> None:
    async with running_server(cert) as server:
        reply, result = await together(
            roles.server_bidi(server, b"question"), browser.run("serverBidi", args(server, cert))
        )
    assert result["text"] == "question"
    assert reply == b"reply:question"
    assert result["closed"] == {"closeCode": 0, "reason": "answered"}


@pytest.mark.parametrize(
    ("role", "scenario", "code"),
    [
        roles.case("reset-by-us", roles.reset_by_us, "readUntilReset", roles.RESET_BY_US),
        roles.case("stop-sending-by-us", roles.stop_by_us, "writeUntilStopped", roles.STOP_BY_US),
    ],
)
async def test_stream_error_by_us(
    browser: BrowserPage,
    cert: Cert,
    role: Callable[[Served], Awaitable[None]],
    scenario: str,
    code: int,
) -> None:
    """We reset (stop) a stream: the page's read (write) fails with our code."""
    _, result = await play(browser, cert, role, scenario)
    assert_stream_error(result, code)


@pytest.mark.parametrize(
    ("role", "scenario", "kind", "code"),
    [
        roles.case("reset-by-peer", roles.reset_by_peer, "resetWith", "reset", roles.RESET_BY_PEER),
        roles.case(
            "stop-sending-by-peer", roles.stop_by_peer, "stopWith", "stop", roles.STOP_BY_PEER
        ),
    ],
)
async def test_stream_error_by_peer(
    browser: BrowserPage,
    cert: Cert,
    role: Callable[[Served], Awaitable[wt.StreamClosedByPeer]],
    scenario: str,
    kind: str,
    code: int,
) -> None:
    """The page resets (stops) a stream with ``code``: our read (write) raises it."""
    error, result = await play(browser, cert, role, scenario, code=code)
    assert (error.kind, error.code) == (kind, code)
    assert result["closed"] == {"closeCode": 0, "reason": "seen"}
