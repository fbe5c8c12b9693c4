"""``check-tag vX.Y.Z``: fail unless a release tag names exactly the version of Cargo.toml,
which Cargo.lock (``--locked`` builds) and a dated CHANGELOG.md entry must share."""

from __future__ import annotations

import argparse
import re

from release.changelog import release_notes
from release.console import error
from release.errors import ReleaseError
from release.project import Project

TAG_RE = re.compile(r"v(\d+\.\d+\.\d+)")


def problems(tag: str, project: Project) -> list[str]:
    """Every reason ``tag`` cannot release ``project`` (empty when it can)."""
    tag = tag.removeprefix("refs/tags/")
    match = TAG_RE.fullmatch(tag)
    if not match:
        return [f"tag {tag!r} is not of the form vX.Y.Z"]
    found: list[str] = []
    version = project.version
    if match.group(1) != version:
        found.append(f"tag {tag} does not match Cargo.toml version {version}")
    locked = project.cargo_lock_version()
    if locked != version:
        found.append(f"Cargo.lock records {project.crate_name} {locked}, Cargo.toml says {version}")
    try:
        release_notes(project, match.group(1))
    except ReleaseError as exc:
        found.append(str(exc))
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tag", help="the tag, e.g. v0.1.0 or refs/tags/v0.1.0")


def main(args: argparse.Namespace, project: Project) -> int:
    """Exit 0 when the tag matches the version, 1 otherwise."""
    found = problems(args.tag, project)
    for problem in found:
        error(problem)
    if not found:
        print(f"tag {args.tag.removeprefix('refs/tags/')} matches version {project.version}")
    return 1 if found else 0
