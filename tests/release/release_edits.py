"""Helpers shared by the release toolkit's tests: where the repository is, and file edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

Edit = Callable[[Path], None]


def replace(relative: str, old: str, new: str, count: int = 1) -> Edit:
    """An edit replacing ``old`` by ``new`` in one file (``old`` must be present)."""

    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not found in {relative}: the test is out of date"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def write(relative: str, text: str) -> Edit:
    """An edit replacing a whole file's text."""

    def apply(root: Path) -> None:
        (root / relative).write_text(text, encoding="utf-8")

    return apply
