"""The locked test dependencies installed next to a wheel under test: pyproject.toml's
``test`` group (what ``tests/unit`` and ``tests/integration`` import), exported from
``uv.lock`` with hashes, so every installed-wheel test runs exactly the locked versions."""

from __future__ import annotations

import argparse
from pathlib import Path

from release.build_settings import uv_binary
from release.errors import ReleaseError
from release.process import run
from release.project import Project

#: The dependency group holding what the installed-wheel suites import.
TEST_GROUP = "test"

#: File name of the exported requirements (pip's hash-checking mode reads it).
FILE_NAME = "test-requirements.txt"


def export_command(uv: str, output: Path) -> list[str]:
    """``uv export`` of the test group as it is locked, with hashes, without the project."""
    return [
        uv, "export", "--frozen", "--only-group", TEST_GROUP, "--no-emit-project",
        "--no-header", "--quiet", "--output-file", str(output),
    ]  # fmt: skip


def export_locked(project: Project, directory: Path, *, echo: bool = False) -> Path:
    """Write the locked test requirements (with hashes) into ``directory``; return the file."""
    uv = uv_binary()
    if uv is None:
        raise ReleaseError("uv is needed to export the locked test dependencies (uv.lock)")
    if TEST_GROUP not in project.pyproject.get("dependency-groups", {}):
        raise ReleaseError(f"pyproject.toml has no [dependency-groups] {TEST_GROUP}")
    output = directory / FILE_NAME
    run(export_command(uv, output), cwd=project.root, echo=echo)
    return output


def install_arguments(requirements: Path) -> list[str]:
    """Installer arguments that install exactly the exported versions (pip or uv pip)."""
    return ["--require-hashes", "--only-binary", ":all:", "-r", str(requirements)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", type=Path, help="requirements file to write")


def main(args: argparse.Namespace, project: Project) -> int:
    """Write the locked test requirements (for cibuildwheel's before-test step)."""
    written = export_locked(project, args.output.resolve().parent, echo=True)
    if written != args.output.resolve():
        written.replace(args.output)
    return 0
