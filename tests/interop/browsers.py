"""Browser peers for the interop tests: one page API over Playwright (Chromium) and
Selenium (Firefox), the loopback HTTP server that serves ``page.js``, and the
browser-finding rules (skip with a clear message, or fail under
``WEB_TRANSPORT_REQUIRE_BROWSER=1``).

The browsers are Debian's (``.ci/install-browsers``: chromium, firefox-esr, geckodriver
built by cargo) unless ``WEB_TRANSPORT_CHROMIUM``, ``WEB_TRANSPORT_FIREFOX`` and
``WEB_TRANSPORT_GECKODRIVER`` name other executables (ci.yml names the GitHub runner
image's Google Chrome, Firefox and geckodriver)."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any, Protocol

# Re-exported: the interop and asgi suites start Chromium through this module.
from tests.support.chromium import CHROMIUM_ARGS as CHROMIUM_ARGS
from tests.support.chromium import CHROMIUM_PATH as CHROMIUM_PATH

HERE = Path(__file__).resolve().parent
PAGE_JS = (HERE / "page.js").read_text()
PAGE_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><title>web_transport interop</title>"
    f"<script>{PAGE_JS}</script></head><body>interop</body></html>"
).encode()

FIREFOX_PATHS = ("/usr/bin/firefox-esr", "/usr/lib/firefox-esr/firefox-esr")
SCRIPT_TIMEOUT = 90.0


def require_browser() -> bool:
    return os.environ.get("WEB_TRANSPORT_REQUIRE_BROWSER") == "1"


def geckodriver_path() -> str | None:
    named = os.environ.get("WEB_TRANSPORT_GECKODRIVER")
    if named:
        return named if Path(named).exists() else None
    found = shutil.which("geckodriver")
    if found:
        return found
    cargo = Path.home() / ".cargo" / "bin" / "geckodriver"
    return str(cargo) if cargo.exists() else None


def firefox_path() -> str | None:
    named = os.environ.get("WEB_TRANSPORT_FIREFOX")
    candidates = (named,) if named else FIREFOX_PATHS
    return next((p for p in candidates if Path(p).exists()), None)


def geckodriver_version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    first = out.stdout.splitlines()[0].strip() if out.stdout else "unknown"
    return first.removeprefix("geckodriver ")


def start_firefox(firefox: str, gecko: str) -> Any:
    """A headless Firefox (Selenium WebDriver) with WebTransport, its datagrams and
    HTTP/3 enabled, and the suite's script and page-load timeouts."""
    from selenium import webdriver
    from selenium.webdriver.firefox.options import Options
    from selenium.webdriver.firefox.service import Service

    options = Options()
    options.binary_location = firefox
    options.add_argument("-headless")
    options.set_preference("network.webtransport.enabled", True)
    options.set_preference("network.webtransport.datagrams.enabled", True)
    options.set_preference("network.http.http3.enable", True)
    driver = webdriver.Firefox(options=options, service=Service(executable_path=gecko))
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    driver.set_page_load_timeout(SCRIPT_TIMEOUT)
    return driver


class BrowserScriptError(AssertionError):
    """The page's scenario function threw (details from the JS error)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(PAGE_HTML)))
        self.send_header("cache-control", "no-store")
        self.end_headers()
        self.wfile.write(PAGE_HTML)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_page() -> Generator[str]:
    """Serve the test page from a thread for the block, on ``http://127.0.0.1:PORT/``
    (a secure context: loopback); yields that origin."""
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}"
        finally:
            httpd.shutdown()
            thread.join(timeout=10)


def _unwrap(result: Any, name: str) -> Any:
    if not isinstance(result, dict) or not result.get("ok"):
        error = result.get("error") if isinstance(result, dict) else result
        raise BrowserScriptError(f"page scenario {name!r} threw: {error}")
    return result["value"]


class BrowserPage(Protocol):
    peer: str
    origin: str

    async def run(self, name: str, args: dict[str, Any], within: float = SCRIPT_TIMEOUT) -> Any:
        """Run ``scenarios[name](args)`` in the page; its value, or BrowserScriptError."""
        ...

    async def close(self) -> None:
        """Close the page (abruptly: sessions in it are not closed first)."""
        ...

    async def another(self) -> BrowserPage:
        """A second, fresh page of the same browser (the caller closes it)."""
        ...


class ChromiumPage:
    """A fresh Playwright browser context and page per test."""

    peer = "chromium"

    def __init__(self, context: Any, page: Any, origin: str) -> None:
        self._context = context
        self._page = page
        self.origin = origin
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    @classmethod
    async def open(cls, browser: Any, origin: str) -> ChromiumPage:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(origin + "/", timeout=SCRIPT_TIMEOUT * 1000)
        return cls(context, page, origin)

    async def run(self, name: str, args: dict[str, Any], within: float = SCRIPT_TIMEOUT) -> Any:
        result = await asyncio.wait_for(
            self._page.evaluate("([n, a]) => window.wtRun(n, a)", [name, args]), within
        )
        return _unwrap(result, name)

    async def close(self) -> None:
        await self._context.close()

    async def another(self) -> ChromiumPage:
        return await ChromiumPage.open(self._context.browser, self.origin)


class FirefoxPage:
    """A fresh tab per test in the session's Firefox; WebDriver calls run in a thread."""

    peer = "firefox"

    def __init__(self, driver: Any, handle: str, home: str, origin: str) -> None:
        self._driver = driver
        self._handle = handle
        self._home = home
        self.origin = origin
        self._closed = False

    @classmethod
    async def open(cls, driver: Any, origin: str) -> FirefoxPage:
        def _open() -> tuple[str, str]:
            home = driver.window_handles[0]
            driver.switch_to.window(home)
            driver.switch_to.new_window("tab")
            driver.get(origin + "/")
            return driver.current_window_handle, home

        handle, home = await asyncio.to_thread(_open)
        return cls(driver, handle, home, origin)

    async def run(self, name: str, args: dict[str, Any], within: float = SCRIPT_TIMEOUT) -> Any:
        script = (
            "const done = arguments[arguments.length - 1];"
            "window.wtRun(arguments[0], arguments[1]).then(done, "
            "e => done({ok: false, error: String(e)}));"
        )

        def _run() -> Any:
            self._driver.switch_to.window(self._handle)
            return self._driver.execute_async_script(script, name, args)

        result = await asyncio.wait_for(asyncio.to_thread(_run), within + 10)
        return _unwrap(result, name)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def _close() -> None:
            self._driver.switch_to.window(self._handle)
            self._driver.close()
            self._driver.switch_to.window(self._home)

        await asyncio.to_thread(_close)

    async def another(self) -> FirefoxPage:
        return await FirefoxPage.open(self._driver, self.origin)
