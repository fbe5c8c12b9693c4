"""Shared fixtures: a self-signed certificate and a loopback WebTransport server.

Two fixtures, nothing else:

- ``self_signed_cert`` (session scope): a :class:`SelfSignedCert` (DER certificate, DER
  PKCS#8 key, SHA-256 hash) for ``localhost``, ``127.0.0.1`` and ``::1``, valid 14 days.
- ``start_server`` (function scope, async): a factory starting a :class:`web_transport.Server`
  on ``127.0.0.1:0``. Each accepted session is handed to ``handler`` (default: queued for
  :meth:`RunningServer.next_session`); ``on_request`` decides how a request is answered
  (default: accepted). Everything is closed at teardown.

Example, with the suites' shared echo peer (``tests/support/echo.py``)::

    from support.echo import echo_bytes, echo_session

    async def test_echo(start_server):
        srv = await start_server(echo_session)
        async with srv.client() as client:
            session = await client.connect(srv.url)
            assert await echo_bytes(session, b"hi") == b"hi"
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import web_transport as wt

SessionHandler = Callable[[wt.Session], Awaitable[None]]
RequestHandler = Callable[[wt.SessionRequest], Awaitable["wt.Session | None"]]

#: Generous bound for any single wait in shared fixtures (the CI machine is loaded).
WAIT = 15.0
#: Bound for closing everything at teardown (a closed endpoint normally drains in ms).
TEARDOWN = 5.0


@dataclass(frozen=True)
class SelfSignedCert:
    """A certificate from :func:`web_transport.generate_self_signed` and its hash."""

    certificate: bytes
    private_key: bytes
    hash: bytes


@pytest.fixture(scope="session")
def self_signed_cert() -> SelfSignedCert:
    cert, key = wt.generate_self_signed(["localhost", "127.0.0.1", "::1"])
    return SelfSignedCert(cert, key, wt.certificate_hash(cert))


async def _accept(request: wt.SessionRequest) -> wt.Session:
    return await request.accept()


@dataclass
class RunningServer:
    """A started server and what a test needs to reach it."""

    server: wt.Server
    cert: SelfSignedCert
    port: int
    #: Server-side sessions, when no handler was given.
    sessions: asyncio.Queue[wt.Session] = field(default_factory=asyncio.Queue)
    #: Requests as they arrived (before ``on_request`` answered them).
    requests: list[wt.SessionRequest] = field(default_factory=list)
    #: Exceptions raised by ``on_request`` or ``handler`` (tests may assert it is empty).
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def url_for(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def client(self, **kwargs: Any) -> wt.Client:
        """A client pinned to this server's certificate hash (override with kwargs)."""
        if not {"no_cert_verification", "ca_certificates"} & kwargs.keys():
            kwargs.setdefault("server_certificate_hashes", [self.cert.hash])
        return wt.Client(**kwargs)

    async def next_session(self, wait: float = WAIT) -> wt.Session:
        """The next server-side session (default handler only), waiting at most ``wait`` s."""
        async with asyncio.timeout(wait):
            return await self.sessions.get()


@pytest.fixture
async def start_server(
    self_signed_cert: SelfSignedCert,
) -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    servers: list[wt.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(
        handler: SessionHandler | None = None,
        *,
        on_request: RequestHandler = _accept,
        **server_kwargs: Any,
    ) -> RunningServer:
        server_kwargs.setdefault("certificate_chain", self_signed_cert.certificate)
        server_kwargs.setdefault("private_key", self_signed_cert.private_key)
        server_kwargs.setdefault("bind", "127.0.0.1:0")
        server = wt.Server(**server_kwargs)
        servers.append(server)
        running = RunningServer(server, self_signed_cert, server.local_addr[1])

        async def serve_one(request: wt.SessionRequest) -> None:
            try:
                session = await on_request(request)
                if session is None:
                    return
                if handler is None:
                    running.sessions.put_nowait(session)
                else:
                    await handler(session)
            except (wt.SessionClosed, wt.SessionTimeout):
                pass  # the peer went away: not the server's fault
            except Exception as exc:
                running.errors.append(exc)

        async def serve() -> None:
            async for request in server:
                running.requests.append(request)
                task = asyncio.create_task(serve_one(request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        task = asyncio.create_task(serve())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return running

    yield start

    for server in servers:
        server.close()
    for task in list(tasks):
        task.cancel()
    with contextlib.suppress(BaseException):
        async with asyncio.timeout(TEARDOWN):
            await asyncio.gather(*tasks, return_exceptions=True)
            for server in servers:
                await server.wait_closed()
