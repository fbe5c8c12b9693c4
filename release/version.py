"""``version``: print the single version (``[package].version`` in Cargo.toml)."""

from __future__ import annotations

import argparse

from release.project import Project


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``version`` takes no arguments."""


def main(args: argparse.Namespace, project: Project) -> int:
    """Print the version."""
    print(project.version)
    return 0
