"""Every Python block on the documentation site runs, or says why it cannot.

A ```python block in a page under ``docs/`` either starts with the line
``# not runnable: <reason>`` (then it only has to compile), or it is a complete program
that this test runs in a fresh interpreter: it must exit 0 within the time limit. A
block holding only ``<!-- include: PATH -->`` is the file at PATH (the site's hook
includes it, docs/site_hooks.py). Blocks the site includes from the README are run by
tests/unit/test_readme.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import web_transport

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INCLUDE = re.compile(r"^<!-- include: (\S+) -->$")
NOT_RUNNABLE = "# not runnable:"
RUN_TIMEOUT = 90.0

# `release test-installed` runs tests/unit out of the checkout, without docs/.
pytestmark = pytest.mark.skipif(
    not (DOCS / "reference.md").is_file(), reason="no docs/ beside tests/ (run from the checkout)"
)


def blocks() -> list[tuple[str, str]]:
    """``(id, code)`` of every Python block in the site's pages, in page order."""
    found: list[tuple[str, str]] = []
    for page in sorted(DOCS.glob("*.md")):
        for i, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            include = INCLUDE.match(block.strip())
            if include:
                block = (ROOT / include.group(1)).read_text(encoding="utf-8")
            found.append((f"{page.name}:{i}", block))
    return found


BLOCKS = blocks()
RUNNABLE = [(i, code) for i, code in BLOCKS if not code.lstrip().startswith(NOT_RUNNABLE)]
MARKED = [(i, code) for i, code in BLOCKS if code.lstrip().startswith(NOT_RUNNABLE)]


def test_blocks_included_from_other_files_are_tested_elsewhere() -> None:
    """Markdown the site includes from outside docs/ (README.md, ...) may only bring
    Python blocks that tests/unit/test_readme.py runs, or ones marked not runnable."""
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"^<!-- include: ([^#\s]+\.md)(?:#[\w-]+)? -->$", text, re.M):
            for block in BLOCK.findall((ROOT / path).read_text(encoding="utf-8")):
                first = block.lstrip().splitlines()[0]
                tested = first in ("# README: server", "# README: client")
                assert tested or first.startswith(NOT_RUNNABLE), (page.name, path, first)


def test_the_site_has_python_blocks() -> None:
    assert len(RUNNABLE) >= 5, [i for i, _ in BLOCKS]


@pytest.mark.parametrize(("block_id", "code"), MARKED, ids=[i for i, _ in MARKED])
def test_not_runnable_blocks_give_a_reason_and_compile(block_id: str, code: str) -> None:
    reason = code.lstrip().splitlines()[0].removeprefix(NOT_RUNNABLE).strip()
    assert len(reason) >= 10, f"{block_id}: say why the block cannot run"
    compile(code, block_id, "exec")


@pytest.mark.timeout(RUN_TIMEOUT + 30)
@pytest.mark.parametrize(("block_id", "code"), RUNNABLE, ids=[i for i, _ in RUNNABLE])
def test_runnable_blocks_run(block_id: str, code: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0, f"{block_id} failed:\n{done.stdout}\n{done.stderr}"


def test_the_api_reference_covers_every_public_name() -> None:
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    listed = re.findall(r"^::: web_transport\.([A-Za-z]\w*)$", reference, re.MULTILINE)
    public = set(web_transport.__all__) - {"__version__"}
    assert sorted(listed) == sorted(public)
