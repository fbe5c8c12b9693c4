"""``test-installed`` run inside a sid root (another CPython, or another CPU under
qemu-user), with the checkout and the wheel directory mounted read-only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from release.console import step
from release.installed import SUITE_TIMEOUT
from release.project import Project
from release.sid_root import SidRoot


def installed_suite_in_root(
    root: SidRoot,
    project: Project,
    dist: Path,
    python: str,
    version: str,
    machine: str,
    env: Mapping[str, str] | None = None,
) -> None:
    """Install the wheel of ``dist`` into a fresh venv of the root's ``python`` and test it."""
    step(f"CPython {python} ({machine}) in the {root.name} root: install and test")
    root.run(
        [
            f"python{python}", "-m", "release", "test-installed", "--dist", str(dist),
            "--python", python, "--version", version, "--expect-machine", machine,
        ],
        binds={project.root: True, dist: True},
        cwd=str(project.root),
        env={
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_ROOT_USER_ACTION": "ignore",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        },
        timeout=SUITE_TIMEOUT,
    )  # fmt: skip
