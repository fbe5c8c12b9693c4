"""`web-transport serve --page` in a real browser, driven as a person would use it.

Starts the command in a subprocess, opens the URL it prints, fills the message and
clicks each send button (bidirectional stream, unidirectional stream, datagram), checks
each echo and its round-trip time as the page shows them, the negotiated subprotocol,
and the close code and reason after clicking Close; the server's log must show each
event. A screenshot of the page is saved in the test's temporary directory. Runs in
Chromium (Playwright) and Firefox (Selenium), with the browsers and the skip/fail rules
of the interop suite (conftest.py, browsers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from docs import interop_scenarios as scenarios

WAIT = 30.0
PAGE_LINE = re.compile(r"page: open (http://127\.0\.0\.1:\d+/) in a browser")
CLOSE_CODE = 4321
CLOSE_REASON = "closed by the page test"


class ChromiumDriver:
    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._context: Any = None
        self._page: Any = None

    async def open(self, url: str) -> None:
        self._context = await self._browser.new_context()
        self._page = await self._context.new_page()
        await self._page.goto(url)

    async def fill(self, element: str, text: str) -> None:
        await self._page.fill(f"#{element}", text)

    async def click(self, element: str) -> None:
        await self._page.click(f"#{element}")

    async def text(self, element: str) -> str:
        return await self._page.text_content(f"#{element}") or ""

    async def screenshot(self, path: Path) -> None:
        await self._page.screenshot(path=str(path), full_page=True)

    async def close(self) -> None:
        await self._context.close()


class FirefoxDriver:
    """Selenium's WebDriver calls block, so each runs in a thread."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver
        self._home = ""
        self._handle = ""

    def _find(self, element: str) -> Any:
        from selenium.webdriver.common.by import By

        self._driver.switch_to.window(self._handle)
        return self._driver.find_element(By.ID, element)

    async def open(self, url: str) -> None:
        def _open() -> None:
            self._home = self._driver.window_handles[0]
            self._driver.switch_to.window(self._home)
            self._driver.switch_to.new_window("tab")
            self._handle = self._driver.current_window_handle
            self._driver.get(url)

        await asyncio.to_thread(_open)

    async def fill(self, element: str, text: str) -> None:
        def _fill() -> None:
            found = self._find(element)
            found.clear()
            found.send_keys(text)

        await asyncio.to_thread(_fill)

    async def click(self, element: str) -> None:
        await asyncio.to_thread(lambda: self._find(element).click())

    async def text(self, element: str) -> str:
        return await asyncio.to_thread(lambda: self._find(element).get_property("textContent"))

    async def screenshot(self, path: Path) -> None:
        await asyncio.to_thread(lambda: self._driver.save_screenshot(str(path)))

    async def close(self) -> None:
        def _close() -> None:
            self._driver.switch_to.window(self._handle)
            self._driver.close()
            self._driver.switch_to.window(self._home)

        await asyncio.to_thread(_close)


async def wait_text(driver: Any, element: str, done: Any, what: str) -> str:
    """Poll ``#element``'s text until ``done(text)``; at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    text = ""
    while time.monotonic() < deadline:
        text = await driver.text(element)
        if done(text):
            return text
        status = await driver.text("status")
        assert not status.startswith(("connect:", "bidi:", "uni:", "datagram:")), status
        await asyncio.sleep(0.1)
    raise AssertionError(f"#{element} never showed {what}; it shows {text!r}")


class ServerLog:
    """The ``serve --page`` subprocess and the lines it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace").rstrip())

    async def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(pattern, line)
                if found:
                    return found
            assert self.process.returncode is None, "\n".join(self.lines)
            await asyncio.sleep(0.05)
        raise AssertionError(f"the server never logged {pattern!r}:\n" + "\n".join(self.lines))

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def test_serve_page_in_browser(browser_peer: tuple[str, Any], tmp_path: Path) -> None:
    peer, handle = browser_peer
    command = ["-m", "web_transport", "serve", "--page", "--bind", "127.0.0.1:0"]
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command, "--page-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    server = ServerLog(process)
    driver = ChromiumDriver(handle) if peer == scenarios.CHROMIUM else FirefoxDriver(handle)
    try:
        page_url = (await server.wait_for(PAGE_LINE.pattern)).group(1)
        await driver.open(page_url)

        await driver.click("connect")
        await wait_text(driver, "status", lambda t: t == "connected", "connected")
        firefox_gap = ("subprotocol", peer) in scenarios.KNOWN_GAPS
        assert await driver.text("protocol") == ("(none)" if firefox_gap else "echo-v2")
        await server.wait_for(r"session from 127\.0\.0\.1:\d+ to https://127\.0\.0\.1:\d+/echo")

        for kind, logged in (("bidi", "bidi stream"), ("uni", "uni stream"), ("datagram", "")):
            message = f"{kind} from {peer} \u2713"
            await driver.fill("message", message)
            await driver.click(f"send-{kind}")
            shown = json.dumps(message, ensure_ascii=False)
            echo = await wait_text(
                driver, f"echo-{kind}", lambda t, s=shown: t.startswith(s), f"{shown} echoed"
            )
            assert re.fullmatch(re.escape(shown) + r" in \d+\.\d ms", echo), echo
            size = len(message.encode())
            await server.wait_for(f"{logged or 'datagram'}: echoed {size} bytes")

        await driver.fill("close-code", str(CLOSE_CODE))
        await driver.fill("close-reason", CLOSE_REASON)
        await driver.click("close")
        expected = f"code {CLOSE_CODE}, reason {json.dumps(CLOSE_REASON)}"
        await wait_text(driver, "closed", lambda t: t == expected, expected)
        if peer == scenarios.CHROMIUM:
            await server.wait_for(
                f"session closed by the peer: code {CLOSE_CODE}, reason '{CLOSE_REASON}'"
            )
        else:
            # Firefox sometimes sends CONNECTION_CLOSE with its close capsule and the code
            # is lost on our side (docs/interop.md, observed races): only the close counts.
            await server.wait_for("session closed")

        shot = tmp_path / f"serve-page-{peer}.png"
        await driver.screenshot(shot)
        assert shot.stat().st_size > 1000
    finally:
        with contextlib.suppress(Exception):
            await driver.close()
        await server.stop()
