"""The one loopback harness every suite builds on: a certificate, a server, a session pair.

- :class:`Cert`: a certificate (DER or PEM), its private key and its SHA-256 hash; the
  field names are the :class:`web_transport.Server` argument names.
- :func:`serve`: a :class:`web_transport.Server` on ``127.0.0.1:0`` for the duration of an
  ``async with`` block, as a :class:`Served`. Each request is answered by ``on_request``
  (default: accepted) and each session handed to ``handler`` (e.g.
  :func:`tests.support.echo.echo_session`; default: queued for
  :meth:`Served.next_session`). With ``on_request=None`` nobody answers: the test takes
  requests itself (:meth:`Served.next_request`, :meth:`Served.accept`).
- :func:`pair`: a server and one connected session, both ends (:class:`Pair`).
- :func:`connect_pair`: connect a client to a server whose requests nobody else answers.

Every wait is bounded (``WAIT``, ``TEARDOWN``); everything is closed on exit.

Example::

    from tests.support.echo import echo_bytes, echo_session
    from tests.support.peers import Cert, serve

    async def test_echo() -> None:
        async with serve(Cert.generate(), echo_session) as served, served.client() as client:
            session = await client.connect(served.url)
            assert await echo_bytes(session, b"hi") == b"hi"
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import web_transport as wt

SessionHandler = Callable[[wt.Session], Awaitable[None]]
RequestHandler = Callable[[wt.SessionRequest], Awaitable["wt.Session | None"]]

#: Generous bound for any single wait of the harness (the CI machine is loaded), seconds.
WAIT = 15.0
#: Bound for closing everything on exit (a closed endpoint normally drains in ms), seconds.
TEARDOWN = 5.0
#: The names a generated certificate is valid for.
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Cert:
    """A certificate, its private key and the certificate's SHA-256 hash."""

    certificate: bytes
    private_key: bytes
    hash: bytes

    @classmethod
    def of(cls, certificate: bytes, private_key: bytes) -> Cert:
        """``certificate`` (DER or PEM) and ``private_key``, hashed."""
        return cls(certificate, private_key, wt.certificate_hash(certificate))

    @classmethod
    def generate(cls, names: Sequence[str] = LOOPBACK) -> Cert:
        """A fresh :func:`web_transport.generate_self_signed` certificate (14 days)."""
        return cls.of(*wt.generate_self_signed(list(names)))

    @classmethod
    def read(cls, certificate: Path, private_key: Path) -> Cert:
        """A certificate and key from files."""
        return cls.of(certificate.read_bytes(), private_key.read_bytes())

    def server(self, **kwargs: Any) -> wt.Server:
        """A server with this certificate on ``127.0.0.1:0`` (``kwargs`` override)."""
        kwargs.setdefault("certificate_chain", self.certificate)
        kwargs.setdefault("private_key", self.private_key)
        kwargs.setdefault("bind", "127.0.0.1:0")
        return wt.Server(**kwargs)

    def client(self, **kwargs: Any) -> wt.Client:
        """A client pinning this certificate's hash, unless ``kwargs`` choose how to
        verify (``no_cert_verification``, ``ca_certificates``)."""
        if not {"no_cert_verification", "ca_certificates"} & kwargs.keys():
            kwargs.setdefault("server_certificate_hashes", [self.hash])
        return wt.Client(**kwargs)


async def _accept(request: wt.SessionRequest) -> wt.Session:
    return await request.accept()


@dataclass
class Served:
    """A running server and what a test needs to reach it."""

    server: wt.Server
    cert: Cert
    #: The path of :attr:`url`.
    path: str = "/"
    #: Every session accepted, in order.
    sessions: list[wt.Session] = field(default_factory=list)
    #: Requests as they arrived (before ``on_request`` answered them).
    requests: list[wt.SessionRequest] = field(default_factory=list)
    #: Exceptions raised by ``on_request`` or ``handler`` (tests may assert it is empty).
    errors: list[BaseException] = field(default_factory=list)
    #: Sessions for :meth:`next_session` (no ``handler`` given).
    queue: asyncio.Queue[wt.Session] = field(default_factory=asyncio.Queue)
    #: Nobody answers requests (``on_request=None``): the test does.
    manual: bool = False

    @property
    def port(self) -> int:
        return self.server.local_addr[1]

    @property
    def url(self) -> str:
        return self.url_for(self.path)

    def url_for(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def client(self, **kwargs: Any) -> wt.Client:
        """A client pinned to this server's certificate (see :meth:`Cert.client`)."""
        return self.cert.client(**kwargs)

    async def next_session(self, wait: float = WAIT) -> wt.Session:
        """The next server-side session (no ``handler`` given), within ``wait`` s."""
        async with asyncio.timeout(wait):
            return await self.queue.get()

    async def next_request(self, wait: float = WAIT) -> wt.SessionRequest:
        """The next request (``on_request=None``), within ``wait`` s."""
        request = await asyncio.wait_for(self.server.accept(), wait)
        assert request is not None, "server closed before a session request arrived"
        return request

    async def accept(
        self, *, protocol: str | None = None, wait: float = WAIT
    ) -> tuple[wt.SessionRequest, wt.Session]:
        """Accept the next request (``on_request=None``): the request and its session."""
        request = await self.next_request(wait)
        session = await asyncio.wait_for(request.accept(protocol=protocol), wait)
        self.sessions.append(session)
        return request, session

    async def connect(
        self, client: wt.Client, path: str | None = None
    ) -> tuple[wt.Session, wt.Session]:
        """Connect ``client`` to ``path`` (default :attr:`path`): ``(client session,
        server session)``. The server side is accepted here when nobody answers requests
        (and recorded in :attr:`sessions`), else it is :meth:`next_session`."""
        if self.manual:
            session, peer = await connect_pair(self.server, client, self.url_for(path or self.path))
            self.sessions.append(peer)
            return session, peer
        async with asyncio.timeout(WAIT):
            session = await client.connect(self.url_for(path or self.path))
        return session, await self.next_session()


async def _close_open(sessions: list[wt.Session]) -> None:
    """Close the sessions still open with a capsule, so a peer still waiting sees
    ``closed`` at once."""
    for session in sessions:
        if session.close_reason is None:
            session.close(1, "served over")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(TEARDOWN):
            await asyncio.gather(*(s.wait_closed() for s in sessions))


@contextlib.asynccontextmanager
async def serve(
    cert: Cert,
    handler: SessionHandler | None = None,
    *,
    on_request: RequestHandler | None = _accept,
    path: str = "/",
    close_open: bool = False,
    **server_kwargs: Any,
) -> AsyncGenerator[Served]:
    """Run a server with ``cert`` on ``127.0.0.1:0`` (``server_kwargs`` override) for the
    block. ``on_request`` answers each request (``None``: the test does); each session
    it returns goes to ``handler`` (``None``: :meth:`Served.next_session`). A session
    ending because the peer went away is not an error; any other exception is recorded in
    :attr:`Served.errors`. With ``close_open``, sessions still open at the end are closed
    with a capsule before the server."""
    server = cert.server(**server_kwargs)
    served = Served(server, cert, path, manual=on_request is None)
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def serve_one(request: wt.SessionRequest, answer: RequestHandler) -> None:
        try:
            session = await answer(request)
            if session is None:
                return
            served.sessions.append(session)
            if handler is None:
                served.queue.put_nowait(session)
            else:
                await handler(session)
        except (wt.SessionClosed, wt.SessionTimeout):
            pass  # the peer went away: not the server's fault
        except Exception as exc:
            served.errors.append(exc)

    async def accept_all(answer: RequestHandler) -> None:
        async for request in server:
            served.requests.append(request)
            spawn(serve_one(request, answer))

    if on_request is not None:
        spawn(accept_all(on_request))
    try:
        yield served
    finally:
        if close_open:
            await _close_open(served.sessions)
        server.close()
        for task in list(tasks):
            task.cancel()
        with contextlib.suppress(BaseException):
            async with asyncio.timeout(TEARDOWN):
                await asyncio.gather(*tasks, return_exceptions=True)
                await server.wait_closed()


async def connect_pair(
    server: wt.Server, client: wt.Client, url: str, wait: float = WAIT
) -> tuple[wt.Session, wt.Session]:
    """Connect ``client`` to ``server`` (whose requests nobody else answers):
    ``(client session, server session)``, each within ``wait`` s."""

    async def accept_one() -> wt.Session:
        request = await server.accept()
        assert request is not None
        return await request.accept()

    accept = asyncio.create_task(accept_one())
    try:
        client_session = await asyncio.wait_for(client.connect(url), wait)
        server_session = await asyncio.wait_for(accept, wait)
    except BaseException:
        accept.cancel()
        raise
    return client_session, server_session


@dataclass
class Pair:
    """Both ends of one loopback session."""

    srv: Served
    client: wt.Client
    session: wt.Session  # client side
    peer: wt.Session  # server side


@contextlib.asynccontextmanager
async def pair(
    cert: Cert,
    *,
    server_kwargs: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
    path: str = "/",
    **connect_kwargs: Any,
) -> AsyncGenerator[Pair]:
    """A server (``server_kwargs``) and a client (``client_kwargs``) connected once to
    ``path`` (``connect_kwargs`` to :meth:`web_transport.Client.connect`)."""
    async with serve(cert, path=path, **(server_kwargs or {})) as srv:
        client = srv.client(**(client_kwargs or {}))
        try:
            async with asyncio.timeout(WAIT):
                session = await client.connect(srv.url, **connect_kwargs)
            yield Pair(srv, client, session, await srv.next_session())
        finally:
            client.close()
            with contextlib.suppress(BaseException):
                async with asyncio.timeout(TEARDOWN):
                    await client.wait_closed()
