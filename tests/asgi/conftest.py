"""Fixtures of the web_transport.asgi suite.

- ``serve_app`` (async factory): runs an ASGI application with
  :class:`web_transport.asgi.ASGIServer` on a loopback :class:`web_transport.Server`;
  everything is closed at teardown.
- :class:`Puppet`: an ASGI application driven by the test. It records every event it
  receives; the test sends the application's events with ``puppet.send`` (errors raise
  in the test) and reads the received ones with ``puppet.next()``.
- ``chromium_page``: a fresh Chromium page (tests/interop's ``page.js`` scenarios) in a
  browser started for the test.
- ``firefox_page``: the same in Firefox (Selenium); ``browser_page``: each in turn.
- ``unavailable``: skip (locally) or fail (under ``CI=true``) when a part cannot run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import pytest_asyncio
import web_transport as wt
from web_transport import asgi

from tests.interop import browsers
from tests.support.peers import Cert

#: Bound of every single wait in this suite (the machine is shared and loaded).
WAIT = 15.0


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under ``CI=true`` (a part of the suite must not go
    missing silently there)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@dataclass
class Served:
    server: wt.Server
    asgi: asgi.ASGIServer
    task: asyncio.Task[None]
    cert_hash: bytes

    @property
    def port(self) -> int:
        return self.server.local_addr[1]

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def client(self, **kwargs: Any) -> wt.Client:
        return wt.Client(server_certificate_hashes=[self.cert_hash], **kwargs)

    async def rejected(self) -> int:
        """Connect a client, which the application must reject: the status it answered."""
        async with self.client() as client:
            with pytest.raises(wt.SessionRejected) as err:
                await client.connect(self.url())
        return err.value.status_code

    async def idle(self) -> None:
        """Wait (bounded) until no application call is running."""
        await eventually(lambda: self.asgi.active_sessions == 0)


async def eventually(condition: Callable[[], bool], within: float = WAIT) -> None:
    """Poll ``condition`` every 10 ms until it holds; fail after ``within`` seconds."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {within} s")


ServeApp = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve_app(self_signed_cert: Cert) -> AsyncIterator[ServeApp]:
    started: list[Served] = []

    async def start(app: Any, *, server_options: dict[str, Any] | None = None, **config: Any):
        server = self_signed_cert.server(**(server_options or {}))
        runner = asgi.ASGIServer(app, asgi.Config(**config))
        task = asyncio.create_task(runner.serve(server))
        served = Served(server, runner, task, self_signed_cert.hash)
        started.append(served)
        return served

    yield start
    for s in started:
        s.server.close()
    with contextlib.suppress(BaseException):
        async with asyncio.timeout(WAIT):
            for s in started:
                with contextlib.suppress(Exception):
                    await s.task
                await s.server.wait_closed()


class Puppet:
    """An ASGI application the test drives (one session at a time)."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.scope: dict[str, Any] = {}
        self.send: Callable[[Any], Awaitable[None]] = self._not_yet
        self.receive: Callable[[], Awaitable[dict[str, Any]]] = self._not_yet_receive
        self.called = asyncio.Event()
        self.returned = asyncio.Event()
        self.pump = True  # False: the test calls receive() itself

    async def _not_yet(self, message: Any) -> None:
        raise AssertionError("the application was not called yet")

    async def _not_yet_receive(self) -> dict[str, Any]:
        raise AssertionError("the application was not called yet")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "webtransport":
            return
        self.scope, self.send, self.receive = scope, send, receive
        self.called.set()
        try:
            while self.pump:
                event = await receive()
                await self.events.put(event)
                if event["type"] == "webtransport.disconnect":
                    return
            await asyncio.Event().wait()  # until the session's end cancels it
        finally:
            self.returned.set()

    async def started(self) -> None:
        async with asyncio.timeout(WAIT):
            await self.called.wait()

    async def next(self, kind: str | None = None) -> dict[str, Any]:
        """The next received event (asserting its type when given)."""
        async with asyncio.timeout(WAIT):
            event = await self.events.get()
        if kind is not None:
            assert event["type"] == kind, event
        return event

    async def accept(self, **fields: Any) -> None:
        await self.started()
        if self.pump:
            await self.next("webtransport.connect")
        else:
            async with asyncio.timeout(WAIT):
                assert (await self.receive())["type"] == "webtransport.connect"
        await self.send({"type": "webtransport.accept", **fields})


async def connect_accepted(
    client: wt.Client, url: str, puppet: Puppet, **accept: Any
) -> wt.Session:
    """Connect ``client`` to ``url`` while ``puppet`` accepts (with ``accept`` fields)."""
    connecting = asyncio.ensure_future(client.connect(url, **accept.pop("connect", {})))
    try:
        await puppet.accept(**accept)
        async with asyncio.timeout(WAIT):
            return await connecting
    finally:
        connecting.cancel()


class Accepted(NamedTuple):
    """A :class:`Puppet` served on a loopback server, with an accepted client session."""

    puppet: Puppet
    session: wt.Session
    served: Served


@contextlib.asynccontextmanager
async def puppet_session(
    serve_app: ServeApp,
    path: str = "/",
    *,
    pump: bool = True,
    app_options: dict[str, Any] | None = None,
    client_options: dict[str, Any] | None = None,
    **accept: Any,
) -> AsyncGenerator[Accepted]:
    """A :class:`Puppet` (``pump``: it receives events itself) served (``serve_app``
    with ``app_options``), and a client (``client_options``) session to ``path`` that it
    accepted (:func:`connect_accepted`'s ``accept``) for the block."""
    puppet = Puppet()
    puppet.pump = pump
    served = await serve_app(puppet, **(app_options or {}))
    async with served.client(**(client_options or {})) as client:
        yield Accepted(
            puppet, await connect_accepted(client, served.url(path), puppet, **accept), served
        )


@pytest.fixture
async def accepted(serve_app: ServeApp) -> AsyncIterator[Accepted]:
    async with puppet_session(serve_app) as session:
        yield session


@pytest.fixture
def chromium_path() -> str:
    if not Path(browsers.CHROMIUM_PATH).exists():
        unavailable(f"{browsers.CHROMIUM_PATH} is missing")
    return browsers.CHROMIUM_PATH


@pytest_asyncio.fixture
async def chromium_page(chromium_path: str) -> AsyncIterator[Any]:
    """A Chromium page at tests/interop's page server (``page.run(scenario, args)``)."""
    from playwright.async_api import async_playwright

    with browsers.serve_page() as origin:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium_path, args=browsers.CHROMIUM_ARGS
            )
            try:
                yield await browsers.ChromiumPage.open(browser, origin)
            finally:
                await browser.close()


@pytest.fixture(scope="session")
def firefox() -> Iterator[Any]:
    """One headless Firefox (Selenium) for the suite."""
    path, gecko = browsers.firefox_path(), browsers.geckodriver_path()
    if path is None or gecko is None:
        unavailable(f"Firefox ({path}) or geckodriver ({gecko}) is missing")
    assert path is not None
    assert gecko is not None
    driver = browsers.start_firefox(path, gecko)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    """The origin of tests/interop's page, served for the whole run."""
    with browsers.serve_page() as origin:
        yield origin


@pytest_asyncio.fixture
async def firefox_page(firefox: Any, page_origin: str) -> AsyncIterator[Any]:
    """A fresh Firefox tab at tests/interop's page server (``page.run`` runs its
    WebDriver calls in a thread)."""
    page = await browsers.FirefoxPage.open(firefox, page_origin)
    try:
        yield page
    finally:
        await page.close()


@pytest.fixture(params=["chromium", "firefox"])
def browser_page(request: pytest.FixtureRequest) -> Any:
    """Each browser's page in turn (``chromium_page``, ``firefox_page``)."""
    return request.getfixturevalue(f"{request.param}_page")
