"""The echo peer the suites share: serve a session by echoing every bidirectional stream
and every datagram (:func:`echo_session`), every session of a server so
(:func:`echo_all`), and the client side of one echo (:func:`echo_bytes`). Used by
``tests/reliability`` (its ``EchoServer``, and through it the bad-input table) and
``tests/integration``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import web_transport as wt


async def echo_session(session: wt.Session) -> None:
    """Serve one session: echo every bidirectional stream and every datagram; return
    when the session closes."""

    async def echo_stream(send: wt.SendStream, recv: wt.RecvStream) -> None:
        with contextlib.suppress(wt.WebTransportError):
            async for chunk in recv:
                await send.write(chunk)
            await send.finish()

    async def datagrams() -> None:
        with contextlib.suppress(wt.WebTransportError):
            async for d in session.datagrams():
                with contextlib.suppress(wt.DatagramError):
                    session.send_datagram(d)

    dg = asyncio.create_task(datagrams())
    try:
        await serve_streams(session, echo_stream)
    finally:
        dg.cancel()


async def echo_all(server: wt.Server, sessions: list[wt.Session] | None = None) -> None:
    """Accept every session ``server`` receives (appended to ``sessions``) and echo it
    until the server closes; the echo tasks still running then are cancelled. A request
    whose accept fails is passed over."""
    tasks: set[asyncio.Task[None]] = set()
    try:
        async for request in server:
            try:
                session = await request.accept()
            except wt.SessionError:
                continue
            if sessions is not None:
                sessions.append(session)
            t = asyncio.create_task(echo_session(session))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
    finally:
        for t in list(tasks):
            t.cancel()


async def serve_streams(
    session: wt.Session,
    handle: Callable[[wt.SendStream, wt.RecvStream], Coroutine[Any, Any, None]],
) -> None:
    """Run ``handle`` on every bidirectional stream the peer opens, each in its own task,
    until the session closes; the tasks still running then are cancelled."""
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                send, recv = await session.accept_bi()
            except wt.SessionError:
                return
            t = asyncio.create_task(handle(send, recv))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
    finally:
        for t in list(tasks):
            t.cancel()


async def echo_bytes(session: wt.Session, payload: bytes) -> bytes:
    """Send ``payload`` on a new bidirectional stream and return what comes back."""
    send, recv = await session.open_bi()
    await send.write(payload)
    await send.finish()
    return await recv.read()
