"""The bounded per-session queue behind the application's ``receive()``."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from web_transport.asgi.events import STREAM_RECEIVE


class ReceiveQueue:
    """Events for one application, oldest first, at most ``maxsize`` queued.

    Stream readers ``await put()``: while the queue is full they stop reading, so QUIC
    flow control (RFC 9000 §4) holds the peer back. Datagrams use :meth:`full` to drop
    instead (RFC 9221 datagrams are unreliable; quinn drops them too). :meth:`end` sets
    the final event: :meth:`get` returns it once the queue is drained, and again on
    every later call. One consumer (the application's ``receive()``).
    """

    __slots__ = ("_end", "_getter", "_items", "_loop", "_maxsize", "_putters")

    def __init__(self, maxsize: int) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self._maxsize = maxsize
        self._getter: asyncio.Future[None] | None = None
        self._putters: deque[asyncio.Future[None]] = deque()
        self._end: dict[str, Any] | None = None
        self._loop = asyncio.get_running_loop()

    def full(self) -> bool:
        return len(self._items) >= self._maxsize

    @property
    def ended(self) -> bool:
        return self._end is not None

    def put_nowait(self, event: dict[str, Any]) -> None:
        """Queue ``event`` even when the queue is full (control events only)."""
        self._items.append(event)
        self._wake_getter()

    def put_front(self, event: dict[str, Any]) -> None:
        """Make ``event`` the next one :meth:`get` returns (answers to the application)."""
        self._items.appendleft(event)
        self._wake_getter()

    async def put(self, event: dict[str, Any]) -> None:
        """Queue ``event``, first waiting while the queue is full (not once ended)."""
        while len(self._items) >= self._maxsize and self._end is None:
            waiter = self._loop.create_future()
            self._putters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._putters:
                    self._putters.remove(waiter)
        self.put_nowait(event)

    def get_nowait(self) -> dict[str, Any] | None:
        """The oldest event, or ``None`` when none is queued."""
        if not self._items:
            return None
        event = self._items.popleft()
        self._wake_putter()
        return event

    def end_stream_of(self, stream: int) -> bool:
        """Mark the newest queued event as the last of ``stream`` if it is a data event
        of that stream (not yet handed out, so it may still change); ``True`` if so."""
        if not self._items:
            return False
        last = self._items[-1]
        if last.get("stream") != stream or last["type"] != STREAM_RECEIVE:
            return False
        last["end_stream"] = True
        return True

    async def get(self) -> dict[str, Any]:
        """The oldest event; the final event once drained after :meth:`end`."""
        while not self._items:
            if self._end is not None:
                return self._end
            if self._getter is not None:
                raise RuntimeError("ASGI receive() is already awaited by another task")
            self._getter = self._loop.create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        event = self._items.popleft()
        self._wake_putter()
        return event

    def end(self, event: dict[str, Any]) -> None:
        """Set the final event and wake everyone waiting."""
        if self._end is not None:
            return
        self._end = event
        self._wake_getter()
        while self._putters:
            waiter = self._putters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _wake_getter(self) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    def _wake_putter(self) -> None:
        if self._putters:
            waiter = self._putters.popleft()
            if not waiter.done():
                waiter.set_result(None)
