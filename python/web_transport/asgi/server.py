"""The entry point: :func:`serve` runs an ASGI application on a :class:`web_transport.Server`."""

from __future__ import annotations

import asyncio
from typing import Any

import web_transport as wt
from web_transport.asgi.config import Config
from web_transport.asgi.lifespan import Lifespan
from web_transport.asgi.scope import build_scope
from web_transport.asgi.session import ASGIApp, SessionRunner


class ASGIServer:
    """Serves one ASGI 3 application's WebTransport sessions.

    Args:
        app: The ASGI 3 application (``async def app(scope, receive, send)``).
        config: The options (:class:`Config`; default ``Config()``).
    """

    def __init__(self, app: ASGIApp, config: Config | None = None) -> None:
        self.app = app
        self.config = config or Config()
        self._runners: set[asyncio.Task[None]] = set()

    @property
    def active_sessions(self) -> int:
        """Application calls running now (one per session request)."""
        return len(self._runners)

    async def serve(self, server: wt.Server) -> None:
        """Run the lifespan startup, then call the application once per session request
        of ``server`` until the server is closed (``accept()`` returns ``None``) or this
        coroutine is cancelled; then cancel the calls still running and run the lifespan
        shutdown.

        Raises:
            LifespanFailed: The application reported ``lifespan.startup.failed`` (or, with
                ``lifespan="on"``, raised during startup); no session is served.
        """
        lifespan = Lifespan(self.app, self.config.lifespan)
        await lifespan.startup()
        state = lifespan.state if lifespan.supported else None
        local = server.local_addr
        try:
            while True:
                request = await server.accept()
                if request is None:
                    break
                scope = build_scope(request, local, root_path=self.config.root_path, state=state)
                runner = SessionRunner(self.app, request, scope, self.config)
                task = asyncio.ensure_future(runner.run())
                self._runners.add(task)
                task.add_done_callback(self._runners.discard)
        finally:
            running = list(self._runners)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await lifespan.shutdown()


async def serve(
    app: ASGIApp, server: wt.Server, config: Config | None = None, **options: Any
) -> None:
    """Serve ``app``'s WebTransport sessions on ``server`` until the server is closed or
    this coroutine is cancelled: ``ASGIServer(app, Config(**options)).serve(server)``.

    Every WebTransport CONNECT becomes one call of ``app`` with a ``webtransport``
    scope (see :func:`build_scope` and ``docs/asgi.md`` for the events).

    Args:
        app: The ASGI 3 application.
        server: A started :class:`web_transport.Server`.
        config: The options; or give them as keyword arguments (:class:`Config`'s
            fields), not both.

    Raises:
        TypeError: Both ``config`` and keyword options were given, or an unknown option.
        ValueError: An option is out of range.
        LifespanFailed: As :meth:`ASGIServer.serve`.
    """
    if config is not None and options:
        raise TypeError("serve(): give config= or keyword options, not both")
    await ASGIServer(app, config or Config(**options)).serve(server)
