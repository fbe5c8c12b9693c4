"""Helpers shared by the release toolkit's tests: where the repository is, file edits, and
which rules fail on an edited copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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


def failing(root: Path) -> dict[str, tuple[str, ...]]:
    """Rule id -> its problems, for every rule that fails on the repository copy ``root``."""
    from release.project import Project
    from release.rules import ALL_RULES, Context

    ctx = Context(Project(root))
    return {rule.id: problems for rule in ALL_RULES if (problems := tuple(rule.check(ctx)))}


def skip_missing_linter(*rule_ids: str) -> None:
    """Skip the test when one of these linter rules' tool (actionlint, zizmor) is absent."""
    from release.rules.linters import tool_path

    for rule_id in rule_ids:
        if rule_id in ("actionlint", "zizmor") and tool_path(rule_id) is None:
            pytest.skip(f"{rule_id} cannot be installed here")
