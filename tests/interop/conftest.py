"""Fixtures and the results plugin of the interop suite.

- Every async test here runs in ONE session-scoped event loop, so that one Chromium
  (Playwright) and one Firefox (Selenium) serve the whole session; each test gets a fresh
  page (Chromium: a new browser context; Firefox: a new tab).
- A missing browser skips its tests with the reason, unless WEB_TRANSPORT_REQUIRE_BROWSER=1,
  where it fails them.
- Each test declares ``@pytest.mark.interop("<scenario>")``; the peer comes from the
  ``browser_peer`` parameter or the module's ``interop_peer`` mark. Collection fails for a
  (scenario, peer) pair that ``scenarios.py`` does not declare, and known gaps from
  ``scenarios.KNOWN_GAPS`` become xfails (strict unless ``Gap.strict`` is False).
- With WEB_TRANSPORT_INTEROP_RESULTS=<path>, the outcome of every interop test and the
  peer versions are written there as JSON (``render_report.py`` turns it into
  docs/interop.md). With WEB_TRANSPORT_INTEROP_MATRIX=<path>, the collected
  (scenario, peer, test) list is written there (used by test_report.py).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import web_transport as wt

from docs import interop_scenarios as scenarios
from tests.interop import browsers
from tests.interop.browsers import BrowserPage, ChromiumPage, FirefoxPage
from tests.interop.interop_state import CERTS, COLLECTED, COLLECTED_FILES, VERSIONS
from tests.support.peers import Cert

HERE = Path(__file__).resolve().parent
RESULTS_ENV = "WEB_TRANSPORT_INTEROP_RESULTS"
MATRIX_ENV = "WEB_TRANSPORT_INTEROP_MATRIX"

_RESULTS: dict[str, dict[str, Any]] = {}


def _in_interop(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def item_peer(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "browser_peer" in callspec.params:
        return str(callspec.params["browser_peer"])
    marker = item.get_closest_marker("interop_peer")
    return str(marker.args[0]) if marker else None


def item_scenario(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("interop")
    return str(marker.args[0]) if marker else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "interop(scenario): the interop scenario a test proves")
    config.addinivalue_line("markers", "interop_peer(peer): the interop peer of a test module")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session_loop = pytest.mark.asyncio(loop_scope="session")
    matrix_rows: list[dict[str, str]] = []
    problems: list[str] = []
    for item in items:
        if not _in_interop(item):
            continue
        if isinstance(item, pytest.Function) and _is_coroutine(item):
            item.add_marker(session_loop, append=False)
        scenario, peer = item_scenario(item), item_peer(item)
        if scenario is None:
            continue
        declared = scenarios.SCENARIO_IDS.get(scenario)
        if declared is None or peer not in declared.peers:
            problems.append(f"{item.nodeid}: ({scenario}, {peer}) is not in scenarios.py")
            continue
        gap = scenarios.KNOWN_GAPS.get((scenario, peer))
        if gap is not None:
            reason = f"{gap.cause}: {gap.detail}"
            item.add_marker(pytest.mark.xfail(strict=gap.strict, reason=reason))
        matrix_rows.append({"scenario": scenario, "peer": peer, "test": item.nodeid})
    if problems:
        raise pytest.UsageError("interop matrix mismatch:\n" + "\n".join(problems))
    COLLECTED.clear()
    COLLECTED.extend(matrix_rows)
    COLLECTED_FILES.clear()
    COLLECTED_FILES.update(Path(str(i.path)).name for i in items if _in_interop(i))
    matrix_path = os.environ.get(MATRIX_ENV)
    if matrix_path:
        Path(matrix_path).write_text(json.dumps(sorted(matrix_rows, key=_row_key), indent=1))


def _is_coroutine(item: pytest.Function) -> bool:
    import inspect

    return inspect.iscoroutinefunction(item.function)


def _row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["scenario"], row["peer"], row["test"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    scenario, peer = item_scenario(item), item_peer(item)
    if scenario is None or peer is None or not _in_interop(item):
        return report
    outcome: str | None = None
    reason = ""
    if hasattr(report, "wasxfail"):
        outcome = "xpassed" if report.passed else "xfailed"
        reason = str(report.wasxfail)
    elif report.skipped:
        outcome = "skipped"
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
    elif report.failed:
        outcome = "failed"
        reason = f"{report.when}: {str(getattr(call.excinfo, 'value', ''))[:300]}"
    elif report.when == "call":
        outcome = "passed"
    if outcome is not None:
        previous = _RESULTS.get(item.nodeid)
        # A teardown failure after a pass/xfail still counts as a failure.
        if previous is None or outcome == "failed":
            _RESULTS[item.nodeid] = {
                "scenario": scenario,
                "peer": peer,
                "test": item.nodeid,
                "outcome": outcome,
                "reason": reason,
            }
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(RESULTS_ENV)
    if not path or not _RESULTS:
        return
    versions = dict(VERSIONS)
    versions["web_transport"] = wt.__version__
    versions["aioquic"] = importlib.metadata.version("aioquic")
    data = {
        "versions": dict(sorted(versions.items())),
        "results": sorted(_RESULTS.values(), key=_row_key),
    }
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


# -- Fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cert() -> Cert:
    """A fresh self-signed certificate for ``localhost`` and ``127.0.0.1`` (14 days)."""
    return Cert.generate(["localhost", "127.0.0.1"])


@pytest.fixture(scope="session")
def long_cert() -> Cert:
    """A self-signed ECDSA P-256 certificate (PEM) valid for 50 years, longer than the 14
    days that ``serverCertificateHashes`` allows: ``tests/support/certs/long.pem``, so no
    test depends on an ``openssl`` command."""
    return Cert.read(CERTS / "long.pem", CERTS / "long.key")


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    """The origin of the test page (``page.js``), served for the whole run."""
    with browsers.serve_page() as origin:
        yield origin


def _unavailable(message: str) -> None:
    if browsers.require_browser():
        pytest.fail(f"{message} (WEB_TRANSPORT_REQUIRE_BROWSER=1)")
    pytest.skip(f"{message}; run .ci/install-browsers")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium_browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browsers.CHROMIUM_PATH, args=browsers.CHROMIUM_ARGS
        )
        VERSIONS["chromium"] = browser.version
        VERSIONS["playwright"] = importlib.metadata.version("playwright")
        try:
            yield browser
        finally:
            await browser.close()


_FIREFOX_FAILURE: list[str] = []


@pytest.fixture(scope="session")
def firefox_driver() -> Iterator[Any]:
    if _FIREFOX_FAILURE:
        _unavailable(_FIREFOX_FAILURE[0])
    firefox = browsers.firefox_path()
    gecko = browsers.geckodriver_path()
    if firefox is None:
        _unavailable("Firefox is not installed (firefox-esr, or WEB_TRANSPORT_FIREFOX)")
    if gecko is None:
        _unavailable("geckodriver is not installed")
    try:
        import selenium  # noqa: F401 (start_firefox needs it)
    except ImportError:
        _unavailable("the selenium package is not installed")
    assert firefox is not None
    assert gecko is not None
    try:
        driver = browsers.start_firefox(firefox, gecko)
    except Exception as exc:
        _FIREFOX_FAILURE.append(f"Firefox/geckodriver failed to start: {exc}")
        _unavailable(_FIREFOX_FAILURE[0])
    VERSIONS["firefox"] = str(driver.capabilities.get("browserVersion", "unknown"))
    VERSIONS["geckodriver"] = browsers.geckodriver_version(gecko)
    VERSIONS["selenium"] = importlib.metadata.version("selenium")
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()


@pytest.fixture(params=[scenarios.CHROMIUM, scenarios.FIREFOX])
def browser_peer(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The browser under test and its session-wide handle (resolved outside the loop)."""
    if request.param == scenarios.CHROMIUM:
        if not Path(browsers.CHROMIUM_PATH).exists():
            _unavailable(f"{browsers.CHROMIUM_PATH} is missing")
        return request.param, request.getfixturevalue("chromium_browser")
    return request.param, request.getfixturevalue("firefox_driver")


@pytest_asyncio.fixture(loop_scope="session")
async def browser(browser_peer: tuple[str, Any], page_origin: str) -> AsyncIterator[BrowserPage]:
    """A fresh page of each browser, at ``page_origin``."""
    peer, handle = browser_peer
    page: BrowserPage
    if peer == scenarios.CHROMIUM:
        page = await ChromiumPage.open(handle, page_origin)
    else:
        page = await FirefoxPage.open(handle, page_origin)
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            await page.close()
