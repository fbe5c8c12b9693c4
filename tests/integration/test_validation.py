"""Argument validation on live objects and connection failures: close reasons, read
sizes, reject status codes, URLs, subprotocols and headers raise ValueError/TypeError
naming the argument and leave the object usable (invalid error codes are rows of the
bad-input table, docs/errors_table.py); an unreachable server fails with
ConnectError within the idle timeout."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
import web_transport as wt

from .conftest import WAIT, Pair

pytestmark = pytest.mark.timeout(60)


def mentions(exc: BaseException, name: str) -> bool:
    """Whether the exception names ``name`` in its message or its notes (PyO3 names the
    argument of a failed conversion in a note: "while processing 'name'")."""
    return name in str(exc) or any(name in note for note in getattr(exc, "__notes__", []))


# Out-of-range and wrong-type codes (negative, 2**32, 2**64, str, float, bool, bytes) for
# every close, reset and stop, positional and keyword, are rows of the bad-input table
# (docs/errors_table.py, run by tests/reliability/test_bad_input.py): each raises
# naming the argument and leaves the process usable.


async def test_the_largest_code_is_valid(pair: Pair) -> None:
    send, recv = await pair.session.open_bi()
    recv.stop(2**32 - 1)
    send.reset(error_code=2**32 - 1)


async def test_close_reason_validation(pair: Pair) -> None:
    with pytest.raises(ValueError, match="reason"):
        pair.session.close(1, "x" * 1025)
    with pytest.raises(ValueError, match="reason"):
        pair.session.close(1, "é" * 513)  # 1026 bytes of UTF-8
    with pytest.raises(TypeError, match="reason"):
        pair.session.close(1, b"bytes")  # type: ignore
    assert pair.session.close_reason is None
    pair.session.close(1, "x" * 1024)  # exactly the limit
    await asyncio.wait_for(pair.peer.wait_closed(), WAIT)
    reason = pair.peer.close_reason
    assert isinstance(reason, wt.SessionClosedByPeer)
    assert reason.reason == "x" * 1024


async def test_read_argument_validation(pair: Pair) -> None:
    send, _ = await pair.session.open_bi()
    await send.write(b"data")
    _, precv = await asyncio.wait_for(pair.peer.accept_bi(), WAIT)
    with pytest.raises(ValueError, match="n"):
        precv.read(-2)
    with pytest.raises(ValueError, match="limit"):
        precv.read(-1, limit=-1)
    with pytest.raises(ValueError, match="n"):
        precv.readexactly(-1)
    with pytest.raises(TypeError, match="'n'"):
        precv.read("4")  # type: ignore
    with pytest.raises(TypeError, match="'n'"):
        precv.readexactly(2.0)  # type: ignore
    with pytest.raises(TypeError, match="limit"):
        precv.read(-1, limit="10")  # type: ignore
    assert await asyncio.wait_for(precv.readexactly(4), WAIT) == b"data"


async def test_priority_validation(pair: Pair) -> None:
    send, _ = await pair.session.open_bi()
    for bad in ("1", 1.5, None):
        with pytest.raises(TypeError):
            send.priority = bad  # type: ignore
    for bad_int in (2**31, -(2**31) - 1):
        with pytest.raises((OverflowError, ValueError)):
            send.priority = bad_int
    send.priority = 2**31 - 1
    assert send.priority == 2**31 - 1
    send.priority = -(2**31)
    assert send.priority == -(2**31)


@pytest.mark.parametrize("status", [0, 99, 200, 204, 299, 600, -404])
async def test_reject_status_validation(start_server: Callable[..., Any], status: int) -> None:
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def check(request: wt.SessionRequest) -> wt.Session:
        try:
            request.reject(status)
        except BaseException as exc:
            outcome.set_result(exc)
        else:
            outcome.set_result(None)
        return await request.accept()  # still answerable

    srv = await start_server(on_request=check)
    async with srv.client() as client:
        session = await asyncio.wait_for(client.connect(srv.url), WAIT)
        assert session.close_reason is None
    exc = await asyncio.wait_for(outcome, WAIT)
    assert isinstance(exc, ValueError)
    assert mentions(exc, "status_code")


async def test_request_argument_types(start_server: Callable[..., Any]) -> None:
    outcome: asyncio.Future[list[BaseException]] = asyncio.get_running_loop().create_future()

    async def check(request: wt.SessionRequest) -> wt.Session:
        errors: list[BaseException] = []
        for call in (
            lambda: request.reject("404"),  # type: ignore
            lambda: request.accept(protocol=5),  # type: ignore
        ):
            try:
                call()
            except BaseException as exc:
                errors.append(exc)
        outcome.set_result(errors)
        return await request.accept()

    srv = await start_server(on_request=check)
    async with srv.client() as client:
        await asyncio.wait_for(client.connect(srv.url), WAIT)
    errors = await asyncio.wait_for(outcome, WAIT)
    assert [type(e) for e in errors] == [TypeError, TypeError]
    assert mentions(errors[0], "status_code")
    assert mentions(errors[1], "protocol")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4433/",
        "wss://127.0.0.1:4433/",
        "ftp://127.0.0.1/",
        "127.0.0.1:4433",
        "not a url",
        "https://",
        "",
    ],
)
async def test_bad_urls(start_server: Callable[..., Any], url: str) -> None:
    srv = await start_server()
    async with srv.client() as client:
        with pytest.raises(ValueError, match="url"):
            client.connect(url)
        # The client still works.
        session = await asyncio.wait_for(client.connect(srv.url), WAIT)
        assert session.url == srv.url


async def test_connect_argument_types(start_server: Callable[..., Any]) -> None:
    srv = await start_server()
    async with srv.client() as client:
        with pytest.raises(TypeError, match="url"):
            client.connect(b"https://127.0.0.1/")
        with pytest.raises(TypeError, match="url"):
            client.connect(None)
        with pytest.raises(ValueError, match="protocols"):
            client.connect(srv.url, protocols=[""])
        with pytest.raises(ValueError, match="protocols"):
            client.connect(srv.url, protocols=["ok", "new\nline"])
        with pytest.raises(ValueError, match="protocols"):
            client.connect(srv.url, protocols=["caf\u00e9"])
        with pytest.raises(TypeError, match="protocols"):
            client.connect(srv.url, protocols=[1])
        with pytest.raises(TypeError, match="headers"):
            client.connect(srv.url, headers={"x-a": 1})
        with pytest.raises(TypeError, match="headers"):
            client.connect(srv.url, headers=5)
        with pytest.raises(ValueError, match="headers"):
            client.connect(srv.url, headers={"bad name": "x"})
        with pytest.raises(ValueError, match="headers"):
            client.connect(srv.url, headers={"x-a": "line\nbreak"})
        session = await asyncio.wait_for(client.connect(srv.url, protocols=["p"]), WAIT)
        assert session.protocol is None  # the default handler accepts without choosing


async def test_unreachable_server() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on `port` now.
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with wt.Client(no_cert_verification=True, max_idle_timeout=1.0) as client:
        with pytest.raises(wt.ConnectError) as info:
            await asyncio.wait_for(client.connect(f"https://127.0.0.1:{port}/"), WAIT)
    assert not isinstance(info.value, wt.SessionRejected)
    assert loop.time() - start < WAIT


async def test_methods_need_a_running_loop(pair: Pair) -> None:
    """Every asynchronous method (the one place this is tested) raises RuntimeError
    when called on a thread without a running event loop."""
    send, _ = await asyncio.wait_for(pair.session.open_bi(), WAIT)

    def outside_loop() -> list[BaseException]:
        errors: list[BaseException] = []
        for call in (
            lambda: pair.client.connect(pair.srv.url),
            pair.session.open_bi,
            pair.session.receive_datagram,
            pair.srv.server.accept,
            lambda: send.write(b"x"),
        ):
            try:
                call()
            except BaseException as exc:
                errors.append(exc)
        return errors

    errors = await asyncio.to_thread(outside_loop)
    assert [type(e) for e in errors] == [RuntimeError] * 5
