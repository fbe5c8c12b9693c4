"""Which packages the test suite needs in a fresh environment next to the installed wheel.

They are the ``dev`` dependency group of pyproject.toml minus the tools that only lint,
type-check or drive browsers; so a test dependency added there is installed here too.
"""

from __future__ import annotations

import re

from release.project import Project

#: dev-group entries that the unit and integration tests do not import (linters, browsers).
NOT_FOR_TESTS = frozenset({"ruff", "ty", "playwright", "selenium"})

#: Used when pyproject.toml has no dev group (the packages the tests are known to use).
FALLBACK = ("pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "aioquic", "pyyaml")


def requirement_name(requirement: str) -> str:
    """The normalized project name of a PEP 508 requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def suite_requirements(project: Project) -> list[str]:
    """Requirement strings to install for running ``tests/unit`` and ``tests/integration``."""
    groups = project.pyproject.get("dependency-groups", {})
    dev = [r for r in groups.get("dev", []) if isinstance(r, str)]
    chosen = [r for r in dev if requirement_name(r) not in NOT_FOR_TESTS]
    return chosen or list(FALLBACK)
