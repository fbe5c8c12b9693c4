"""One ASGI application call per WebTransport session: :class:`SessionRunner`.

The runner owns the session: it answers the CONNECT as the application asks (or 500 /
504 when it cannot), turns the session's streams and datagrams into receive events
(one reader task per incoming stream, one datagram task, one task watching for the
session's end), carries out the application's events, and closes the session and
cancels every task of its own when the application returns, raises or is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import web_transport as wt
from web_transport.asgi import events as ev
from web_transport.asgi.config import Config
from web_transport.asgi.receive_queue import ReceiveQueue

log = logging.getLogger("web_transport.asgi")

ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

# Strong references to answers sent after the application's task was cancelled.
_background: set[asyncio.Task[Any]] = set()
_warned_headers: list[bool] = []


def _keep(coro: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _quietly(operation: Awaitable[Any]) -> None:
    with contextlib.suppress(wt.WebTransportError, ValueError):
        await operation


class _Stream:
    """A stream's halves as the application sees them."""

    __slots__ = ("recv", "recv_open", "send", "send_open", "stopped")

    def __init__(self, send: wt.SendStream | None, recv: wt.RecvStream | None) -> None:
        self.send = send
        self.recv = recv
        self.send_open = send is not None
        self.recv_open = recv is not None
        self.stopped = False  # the peer's STOP_SENDING was delivered


class SessionRunner:
    """Runs ``app`` for one session request; ``await run()`` returns when it is over."""

    def __init__(
        self,
        app: ASGIApp,
        request: wt.SessionRequest,
        scope: dict[str, Any],
        config: Config,
    ) -> None:
        self._app = app
        self._request = request
        self._scope = scope
        self._config = config
        self._queue = ReceiveQueue(config.receive_queue_size)
        self._queue.put_nowait({"type": ev.CONNECT})
        self._session: wt.Session | None = None
        self._answered = False  # accept, reject or close (before accept) was sent
        self._app_closed = False  # the application ended the session (close / reject)
        self._close_code: int | None = None
        self._close_reason = ""
        self._timed_out = False
        self._disconnect_delivered = False
        self._end_error: wt.SessionError | None = None
        self._streams: dict[int, _Stream] = {}
        self._next_id = {0: 0, 1: 1, 2: 2, 3: 3}  # next id per RFC 9000 stream type
        self._tasks: set[asyncio.Task[None]] = set()
        self.datagrams_received = 0
        self.datagrams_dropped = 0
        scope["extensions"].setdefault("web_transport", {})["stats"] = self.stats

    def stats(self) -> dict[str, int]:
        """``datagrams_received`` (every datagram this runner took from the session)
        and ``datagrams_dropped`` (those dropped because the receive queue was full)."""
        return {
            "datagrams_received": self.datagrams_received,
            "datagrams_dropped": self.datagrams_dropped,
        }

    # -- the application's call ---------------------------------------------------------

    async def run(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        timeout = self._config.accept_timeout
        timer = None
        if timeout is not None:
            timer = asyncio.get_running_loop().call_later(timeout, self._accept_expired, task)
        try:
            await self._app(self._scope, self.receive, self.send)
        except asyncio.CancelledError:
            if self._timed_out and task.uncancel() == 0:
                await self._refuse(ev.ACCEPT_TIMEOUT_STATUS)
                return
            self._abandon()
            raise
        except Exception as exc:
            if isinstance(exc, wt.SessionError) and self._session_ended():
                log.debug("ASGI application ended with the session: %r", exc)
            elif not self._answered:
                log.exception("ASGI application raised before accepting: CONNECT answered 500")
                await self._refuse(ev.APP_ERROR_STATUS)
            elif not self._app_closed:
                log.exception(
                    "ASGI application raised: session closed with code %d", ev.INTERNAL_ERROR
                )
                self._close(ev.INTERNAL_ERROR, "ASGI application error")
            else:
                log.exception("ASGI application raised after closing its session")
        else:
            if not self._answered:
                if self._timed_out:
                    await self._refuse(ev.ACCEPT_TIMEOUT_STATUS)
                else:
                    log.error("ASGI application returned without accepting: CONNECT answered 500")
                    await self._refuse(ev.APP_ERROR_STATUS)
            elif not self._app_closed:
                self._close(0, "")
        finally:
            if timer is not None:
                timer.cancel()
        await self._wind_down()

    def _session_ended(self) -> bool:
        """The session ended (possibly a moment before ``_watch_session`` noticed)."""
        session = self._session
        return self._end_error is not None or (
            session is not None and session.close_reason is not None
        )

    def _accept_expired(self, task: asyncio.Task[None]) -> None:
        if not self._answered:
            log.warning(
                "ASGI application did not accept within %s s: CONNECT answered %d",
                self._config.accept_timeout,
                ev.ACCEPT_TIMEOUT_STATUS,
            )
            self._timed_out = True
            task.cancel()

    async def _refuse(self, status: int) -> None:
        self._answered = True
        self._app_closed = True
        self._queue.end(ev.disconnect(None, ""))
        await _quietly(self._request.reject(status))

    def _close(self, code: int, reason: str) -> None:
        if self._session is not None:
            self._session.close(code, reason)  # ValueError (reason too long) leaves it open
        self._app_closed = True
        self._close_code, self._close_reason = code, reason

    def _abandon(self) -> None:
        """The application's task was cancelled: free the session without waiting."""
        if not self._answered:
            self._answered = True
            _keep(_quietly(self._request.reject(ev.APP_ERROR_STATUS)))
        elif not self._app_closed:
            self._close(0, "")
        for t in self._tasks:
            t.cancel()

    async def _wind_down(self) -> None:
        session = self._session
        if session is not None:
            try:
                await asyncio.wait_for(session.wait_closed(), self._config.close_timeout)
            except TimeoutError:
                log.warning("session did not close within %s s", self._config.close_timeout)
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._streams.clear()

    # -- receive ------------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        """The application's ``receive()``: the next event. After
        ``webtransport.disconnect`` was returned, raises why the session ended."""
        if self._disconnect_delivered:
            raise self._ended()
        event = self._queue.get_nowait()
        if event is None:
            event = await self._queue.get()
        if event["type"] == ev.DISCONNECT:
            self._disconnect_delivered = True
        return event

    def _ended(self) -> wt.SessionError:
        if self._end_error is not None:
            return self._end_error
        return wt.SessionClosedLocally("the ASGI application closed the session")

    # -- send ---------------------------------------------------------------------------

    async def send(self, message: Any) -> None:
        """The application's ``send()``: validate ``message`` and carry it out."""
        if (
            type(message) is dict
            and message.get("type") == ev.STREAM_SEND
            and self._session is not None
            and not self._app_closed
        ):
            # The hot path: the checks of ev.validate for this one event, inline.
            sid = message.get("stream")
            data = message.get("data", b"")
            end_stream = message.get("end_stream", False)
            if type(sid) is int and type(data) is bytes and type(end_stream) is bool:
                await self._stream_send(sid, data, end_stream)
                return
        kind, f = ev.validate(message)
        if kind == ev.STREAM_SEND and self._session is not None and not self._app_closed:
            await self._stream_send(f["stream"], f["data"], f["end_stream"])
            return
        if self._app_closed or self._end_error is not None:
            raise (
                self._ended()
                if self._end_error
                else wt.SessionClosedLocally(f"ASGI send(): {kind!r} after the session was closed")
            )
        if kind in (ev.ACCEPT, ev.REJECT) or (kind == ev.CLOSE and not self._answered):
            await self._answer(kind, f)
            return
        if not self._answered:
            raise RuntimeError(f"ASGI send(): {kind!r} before 'webtransport.accept'")
        session = self._session
        assert session is not None
        if kind == ev.DATAGRAM_SEND:
            await session.send_datagram_wait(f["data"])
        elif kind == ev.CLOSE:
            self._close(f["code"], f["reason"])
        elif kind == ev.STREAM_OPEN:
            await self._open(session, f["unidirectional"])
        elif kind == ev.STREAM_RESET:
            stream = self._stream(kind, f["stream"], sending=True)
            if stream.send_open:
                assert stream.send is not None
                stream.send_open = False
                with contextlib.suppress(wt.StreamClosedByPeer):
                    stream.send.reset(f["code"])
                self._forget(f["stream"], stream)
        elif kind == ev.STREAM_STOP_SENDING:
            stream = self._stream(kind, f["stream"], sending=False)
            if stream.recv_open:
                assert stream.recv is not None
                with contextlib.suppress(wt.StreamClosed):
                    stream.recv.stop(f["code"])

    async def _answer(self, kind: str, f: dict[str, Any]) -> None:
        if self._answered:
            raise RuntimeError(f"ASGI send(): {kind!r} after the session was accepted")
        if kind in (ev.CLOSE, ev.REJECT):
            await self._refuse(f["status"])
            return
        protocol = f["subprotocol"]
        if protocol is not None and protocol not in self._request.protocols:
            raise ValueError(
                f"ASGI send(): {kind!r} event field 'subprotocol' is {protocol!r}, not one "
                f"of the offered {self._request.protocols!r}"
            )
        for pair in f["headers"]:
            if not (
                isinstance(pair, (tuple, list))
                and len(pair) == 2
                and all(isinstance(x, bytes) for x in pair)
            ):
                raise TypeError(
                    f"ASGI send(): {kind!r} event field 'headers' must hold (bytes, bytes) "
                    f"pairs, got {pair!r:.60}"
                )
        if f["headers"] and not _warned_headers:
            _warned_headers.append(True)
            log.warning(
                "webtransport.accept headers are not sent: "
                "web_transport.SessionRequest.accept() takes no response headers"
            )
        self._answered = True
        try:
            session = await self._request.accept(protocol=protocol)
        except wt.SessionError as exc:
            self._end_error = exc
            self._queue.end(ev.disconnect(None, ""))
            raise
        self._session = session
        for coro in (
            self._accept_streams(session, bidi=True),
            self._accept_streams(session, bidi=False),
            self._receive_datagrams(session),
            self._watch_session(session),
        ):
            self._spawn(coro)

    def _stream(self, kind: str, sid: int, *, sending: bool) -> _Stream:
        stream = self._streams.get(sid)
        if stream is None:
            raise ValueError(
                f"ASGI send(): {kind!r} event field 'stream': {sid} is not an open stream "
                "of this session"
            )
        if (stream.send if sending else stream.recv) is None:
            way = "receive-only" if sending else "send-only"
            raise ValueError(
                f"ASGI send(): {kind!r} event field 'stream': {sid} is a {way} "
                "(unidirectional) stream"
            )
        return stream

    async def _stream_send(self, sid: int, data: Any, end_stream: bool) -> None:
        stream = self._streams.get(sid)
        if stream is None or stream.send is None:
            self._stream(ev.STREAM_SEND, sid, sending=True)  # raises the clear error
            return
        if stream.stopped:
            if end_stream and stream.send_open:
                stream.send_open = False
                self._forget(sid, stream)
            return  # the peer asked us to stop: the data is discarded (as a reset would)
        try:
            if data:
                await stream.send.write(data)
            if end_stream:
                stream.send_open = False
                await stream.send.finish()
                self._forget(sid, stream)
        except wt.StreamClosedByPeer as exc:
            self._peer_stopped(sid, stream, exc.code)

    async def _open(self, session: wt.Session, unidirectional: bool) -> None:
        if unidirectional:
            stream = _Stream(await session.open_uni(), None)
            sid = self._new_id(3)
        else:
            send, recv = await session.open_bi()
            stream = _Stream(send, recv)
            sid = self._new_id(1)
        self._track(sid, stream)
        self._queue.put_front(ev.stream_opened(sid, unidirectional))

    # -- the session's side -------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_id(self, kind: int) -> int:
        sid = self._next_id[kind]
        self._next_id[kind] = sid + 4
        return sid

    def _track(self, sid: int, stream: _Stream) -> None:
        self._streams[sid] = stream
        if stream.recv is not None:
            self._spawn(self._read(sid, stream, stream.recv))

    def _forget(self, sid: int, stream: _Stream) -> None:
        if not stream.send_open and not stream.recv_open:
            self._streams.pop(sid, None)

    def _peer_stopped(self, sid: int, stream: _Stream, code: int | None) -> None:
        if not stream.stopped:
            stream.stopped = True
            self._queue.put_nowait(ev.stream_code(ev.STREAM_STOP_SENDING, sid, code))

    async def _accept_streams(self, session: wt.Session, *, bidi: bool) -> None:
        while True:
            try:
                if bidi:
                    send, recv = await session.accept_bi()
                    stream = _Stream(send, recv)
                else:
                    stream = _Stream(None, await session.accept_uni())
            except wt.SessionError:
                return
            self._track(self._new_id(0 if bidi else 2), stream)

    async def _read(self, sid: int, stream: _Stream, recv: wt.RecvStream) -> None:
        queue = self._queue
        size = self._config.read_size
        try:
            while True:
                data = await recv.read(size)
                if not data:
                    # The FIN often comes with the data: then the data's event is still
                    # queued, and it becomes the last one instead of a second event.
                    if not queue.end_stream_of(sid):
                        await queue.put(ev.stream_receive(sid, b"", True))
                    return
                event = ev.stream_receive(sid, data, False)
                if queue.full():
                    await queue.put(event)
                else:
                    queue.put_nowait(event)
        except wt.StreamClosedByPeer as exc:
            await queue.put(ev.stream_code(ev.STREAM_RESET, sid, exc.code))
        except (wt.StreamClosedLocally, wt.SessionError):
            pass
        finally:
            stream.recv_open = False
            self._forget(sid, stream)

    async def _receive_datagrams(self, session: wt.Session) -> None:
        queue = self._queue
        while True:
            try:
                batch = await session.receive_datagrams(64)
            except wt.SessionError:
                return
            self.datagrams_received += len(batch)
            for data in batch:
                if queue.full():
                    self.datagrams_dropped += 1
                else:
                    queue.put_nowait(ev.datagram_receive(data))

    async def _watch_session(self, session: wt.Session) -> None:
        await session.wait_closed()
        reason = session.close_reason
        if self._app_closed:
            code, text = self._close_code, self._close_reason
        else:
            self._end_error = reason or wt.SessionClosedLocally("the session closed")
            code = getattr(reason, "code", None)
            text = getattr(reason, "reason", "") or ""
        self._queue.end(ev.disconnect(code, text))
