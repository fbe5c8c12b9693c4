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
import server_roles as roles
import web_transport as wt
from browsers import BrowserPage
from interop_state import Cert
from server_roles import CertLike, pattern, running_server, sha256_hex, together, url_of

MANY_STREAMS = wt.TransportConfig(max_concurrent_bidi_streams=256)


def args(server: wt.Server, cert: CertLike, **extra: object) -> dict[str, object]:
    return {"url": url_of(server), "hash": list(cert.hash), **extra}


async def play[T](
    browser: BrowserPage,
    cert: CertLike,
    role: Callable[[wt.Server], Awaitable[T]],
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


@pytest.mark.interop("bidi-echo-small")
async def test_bidi_echo_small(browser: BrowserPage, cert: Cert) -> None:
    await _bidi_echo(browser, cert, 1024)


@pytest.mark.interop("bidi-echo-8mib")
async def test_bidi_echo_8mib(browser: BrowserPage, cert: Cert) -> None:
    await _bidi_echo(browser, cert, 8 << 20)


async def _bidi_echo(browser: BrowserPage, cert: Cert, size: int) -> None:
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


@pytest.mark.interop("reset-by-us")
async def test_reset_by_us(browser: BrowserPage, cert: Cert) -> None:
    _, result = await play(browser, cert, roles.reset_by_us, "readUntilReset")
    assert_stream_error(result, roles.RESET_BY_US)


@pytest.mark.interop("reset-by-peer")
async def test_reset_by_peer(browser: BrowserPage, cert: Cert) -> None:
    error, result = await play(
        browser, cert, roles.reset_by_peer, "resetWith", code=roles.RESET_BY_PEER
    )
    assert (error.kind, error.code) == ("reset", roles.RESET_BY_PEER)
    assert result["closed"] == {"closeCode": 0, "reason": "seen"}


@pytest.mark.interop("stop-sending-by-us")
async def test_stop_sending_by_us(browser: BrowserPage, cert: Cert) -> None:
    _, result = await play(browser, cert, roles.stop_by_us, "writeUntilStopped")
    assert_stream_error(result, roles.STOP_BY_US)


@pytest.mark.interop("stop-sending-by-peer")
async def test_stop_sending_by_peer(browser: BrowserPage, cert: Cert) -> None:
    error, result = await play(
        browser, cert, roles.stop_by_peer, "stopWith", code=roles.STOP_BY_PEER
    )
    assert (error.kind, error.code) == ("stop", roles.STOP_BY_PEER)
    assert result["closed"] == {"closeCode": 0, "reason": "seen"}
