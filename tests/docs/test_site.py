"""The documentation site as a reader sees it: built with the pinned ``docs`` group
(``mkdocs build --strict``, what CI publishes), every page's rendered HTML is checked
against its Markdown source after the site's includes (docs/site_hooks.py):

- every fenced code block of the source is a ``<pre>`` in the page, with its text;
- every Markdown table is a ``<table>``;
- no literal ```` ``` ```` reaches the HTML (a fence the renderer did not see);
- every ``<!-- include: ... -->`` pulled in non-empty content;
- no ``docs/*.py`` build script is published as a file of the site.

Then Chromium (Playwright; Debian's /usr/bin/chromium unless WEB_TRANSPORT_CHROMIUM names
another) opens the home page and the quick start, checks that the quick start shows both
of its programs and that no code line runs past its block (long lines wrap), and saves
screenshots in ``target/site-screenshots/`` (CI keeps them as an artifact).

Under ``CI=true`` a missing uv or Chromium fails the test; elsewhere it skips, saying why.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.chromium import CHROMIUM_ARGS, CHROMIUM_PATH

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCREENSHOTS = ROOT / "target" / "site-screenshots"
BUILD_TIMEOUT = 600.0
# The interpreter behind the test venv, for the docs venv (target/docs-venv, as .ci/run).
PYTHON = getattr(sys, "_base_executable", sys.executable)

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")
PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")

pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(not (DOCS / "index.md").is_file(), reason="no docs/ beside tests/"),
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Fail under CI (a part that cannot run must not pass), skip elsewhere."""
    if in_ci():
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def load_hooks() -> ModuleType:
    """docs/site_hooks.py, the module MkDocs runs, to expand includes as the site does."""
    spec = importlib.util.spec_from_file_location("site_hooks", DOCS / "site_hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = load_hooks()


@dataclass
class Block:
    line: int
    text: str


def fenced_blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of ``markdown`` (backticks or tildes, any indentation)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    fence, start, body = "", 0, []
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if fence:
            if match and match.group(1).startswith(fence) and not match.group(2).strip():
                blocks.append(Block(start + 1, "\n".join(body)))
                fence = ""
            else:
                body.append(line)
        elif match:
            fence, start, body = match.group(1), i, []
    assert not fence, f"a code block opened on line {start + 1} is never closed"
    return blocks


def tables(markdown: str) -> int:
    """Markdown tables outside code blocks: their header rules (``|---|---|``)."""
    outside, fence = [], ""
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if fence:
            if match and match.group(1).startswith(fence) and not match.group(2).strip():
                fence = ""
        elif match:
            fence = match.group(1)
        else:
            outside.append(line)
    return sum(1 for line in outside if TABLE_RULE.match(line))


def expanded(page: Path) -> tuple[str, list[tuple[str, str]]]:
    """The page's Markdown after the site's includes, and each include with what it
    pulled in."""
    text = page.read_text(encoding="utf-8")
    pulled: list[tuple[str, str]] = []

    def include(match: re.Match[str]) -> str:
        body = HOOKS._include(match, page.resolve())
        pulled.append((match.group(0), body))
        return body

    return HOOKS.INCLUDE.sub(include, text), pulled


def rendered_path(site: Path, page: Path) -> Path:
    name = page.stem
    return site / "index.html" if name == "index" else site / name / "index.html"


def pre_texts(page_html: str) -> list[str]:
    return [html.unescape(TAG.sub("", pre)) for pre in PRE.findall(page_html)]


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built as CI builds it, into a temporary directory."""
    uv = shutil.which("uv")
    if uv is None:
        unavailable("uv is not on PATH: cannot build the site with the pinned docs group")
    assert uv is not None
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(ROOT / "target" / "docs-venv"),
        "NO_MKDOCS_2_WARNING": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    build = subprocess.run(
        [uv, "run", "--locked", "--only-group", "docs", "--python", PYTHON,
         "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
    return out


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_page_renders_its_source(site: Path, page: Path) -> None:
    markdown, pulled = expanded(page)
    for directive, body in pulled:
        assert body.strip(), f"{page.name}: {directive} pulled in nothing"
    page_html = rendered_path(site, page).read_text(encoding="utf-8")

    assert "```" not in page_html, (
        f"{page.name}: a literal ``` reached the HTML (a code block the renderer did not see)"
    )
    shown = pre_texts(page_html)
    blocks = fenced_blocks(markdown)
    assert len(shown) >= len(blocks), (
        f"{page.name}: {len(blocks)} code blocks in the source, {len(shown)} <pre> in the HTML"
    )
    for block in blocks:
        first = next((line.strip() for line in block.text.splitlines() if line.strip()), "")
        assert any(first in text for text in shown), (
            f"{page.name}: the code block at line {block.line} of the expanded source "
            f"({first!r}) is not in any <pre> of the page"
        )
    expected_tables = tables(markdown)
    got_tables = page_html.count("<table")
    assert got_tables >= expected_tables, (
        f"{page.name}: {expected_tables} tables in the source, {got_tables} <table> in the HTML"
    )


@pytest.mark.parametrize("name", ["Server", "Client", "TransportConfig"])
def test_reference_shows_the_constructor_signature(site: Path, name: str) -> None:
    """Each class heading shows how to call it, keyword-only ``*`` included."""
    shown = pre_texts((site / "reference" / "index.html").read_text(encoding="utf-8"))
    signature = next((text for text in shown if text.startswith(f"{name}(")), None)
    assert signature is not None, f"the reference shows no {name}(...) signature"
    assert re.match(rf"{name}\(\s*\*,", signature), signature[:200]


def test_no_build_scripts_published(site: Path) -> None:
    """docs/*.py (hooks, griffe extension, generator) build the site; they are not pages."""
    published = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.py"))
    assert published == [], published


def test_quick_start_includes_both_programs() -> None:
    """The quick start brings the README's server and client, not an empty section."""
    markdown, pulled = expanded(DOCS / "quickstart.md")
    assert pulled, "quickstart.md includes nothing from the README"
    firsts = [block.text.lstrip().splitlines()[0] for block in fenced_blocks(markdown)]
    assert "# README: server" in firsts, firsts
    assert "# README: client" in firsts, firsts


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM_PATH).exists():
        unavailable(f"no Chromium at {CHROMIUM_PATH} for the screenshots")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (dev group)")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize(
    ("name", "path", "programs"),
    [
        ("home", "index.html", []),
        ("quickstart", "quickstart/index.html", ["# README: server", "# README: client"]),
    ],
)
def test_screenshot(site: Path, chromium: Any, name: str, path: str, programs: list[str]) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((site / path).as_uri(), wait_until="load", timeout=60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=60_000)
        article = page.locator("article")
        assert article.is_visible(), f"{path}: no visible article"
        # Long code lines wrap (docs/stylesheets/site.css): none runs past its block.
        overflowing = page.evaluate(
            "[...document.querySelectorAll('pre > code')]"
            ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText.slice(0, 60))"
        )
        assert overflowing == [], f"{path}: code wider than its block: {overflowing}"
        for program in programs:
            block = page.locator("pre", has_text=program)
            assert block.count() == 1, f"{path}: {block.count()} code blocks show {program!r}"
            assert block.is_visible(), f"{path}: the block with {program!r} is not visible"
            box = block.bounding_box()
            assert box is not None
            assert box["height"] > 200, (
                f"{path}: the block with {program!r} is only {box} tall (program cut off?)"
            )
    finally:
        page.close()
