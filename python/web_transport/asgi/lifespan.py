"""The ASGI lifespan protocol (startup and shutdown events), as uvicorn runs it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from web_transport.asgi.config import LifespanMode
from web_transport.asgi.session import ASGIApp

log = logging.getLogger("web_transport.asgi")


class LifespanFailed(RuntimeError):
    """The application reported ``lifespan.startup.failed`` (or, with
    ``lifespan="on"``, raised during startup)."""


class Lifespan:
    """One lifespan call of ``app``: :meth:`startup` before the first session,
    :meth:`shutdown` after the last. ``state`` is the scope's ``state`` dict, copied into
    every ``webtransport`` scope."""

    def __init__(self, app: ASGIApp, mode: LifespanMode) -> None:
        self._app = app
        self._mode = mode
        self.state: dict[str, Any] = {}
        self.supported = mode != "off"
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the answer.

        Raises:
            LifespanFailed: ``lifespan.startup.failed``, or (``mode="on"``) the
                application raised instead of answering.
        """
        if not self.supported:
            return
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self._task = asyncio.ensure_future(self._main(scope))
        await self._inbox.put({"type": "lifespan.startup"})
        answer = await self._answer()
        if answer is None:
            return
        if answer["type"] == "lifespan.startup.failed":
            raise LifespanFailed(f"lifespan startup failed: {answer.get('message', '')}")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer (a failure is logged)."""
        if not self.supported or self._task is None:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        answer = await self._answer()
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            log.error("ASGI lifespan shutdown failed: %s", answer.get("message", ""))
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _answer(self) -> dict[str, Any] | None:
        """The application's next lifespan event, or ``None`` when it does not support
        lifespan (it returned or raised)."""
        assert self._task is not None
        getting = asyncio.ensure_future(self._outbox.get())
        await asyncio.wait({getting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getting.done():
            return getting.result()
        getting.cancel()
        self.supported = False
        if self._failure is not None and self._mode == "on":
            raise LifespanFailed("the ASGI application raised in lifespan") from self._failure
        log.info("ASGI 'lifespan' protocol appears unsupported.")
        return None

    async def _main(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._inbox.get, self._send)
        except Exception as exc:
            self._failure = exc
            if self._mode == "on":
                log.exception("ASGI lifespan raised")
            else:
                log.debug("ASGI lifespan raised", exc_info=True)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._outbox.put(message)
