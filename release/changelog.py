"""``notes vX.Y.Z``: a version's CHANGELOG.md entry (``## [X.Y.Z] - YYYY-MM-DD``, Keep a
Changelog), which ``check-tag`` requires and the GitHub release uses as its description."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from release.errors import ReleaseError
from release.project import CHANGELOG, Project

HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$")


def entry(text: str, version: str) -> str:
    """The body of ``version``'s section of a changelog's text; :class:`ReleaseError` when it
    is missing, undated or empty."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = HEADING.match(line)
        if not match or match.group("version") != version:
            continue
        if not match.group("date"):
            raise ReleaseError(f"{CHANGELOG}: ## [{version}] has no date (## [{version}] - Y-M-D)")
        body: list[str] = []
        for following in lines[index + 1 :]:
            if following.startswith("## ") or re.match(r"^\[[^\]]+\]: ", following):
                break
            body.append(following)
        notes = "\n".join(body).strip()
        if not notes:
            raise ReleaseError(f"{CHANGELOG}: the entry for {version} is empty")
        return notes + "\n"
    raise ReleaseError(f"{CHANGELOG} has no entry ## [{version}] - YYYY-MM-DD")


def release_notes(project: Project, version: str) -> str:
    """``version``'s entry in the project's CHANGELOG.md."""
    return entry(project.text(CHANGELOG), version)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tag", help="the tag, e.g. v0.1.0 (or a bare version)")
    parser.add_argument("--output", type=Path, help="write the notes here instead of stdout")


def main(args: argparse.Namespace, project: Project) -> int:
    """Print or write the notes of the tag's version."""
    notes = release_notes(project, args.tag.removeprefix("refs/tags/").removeprefix("v"))
    if args.output:
        args.output.write_text(notes, encoding="utf-8")
    else:
        print(notes, end="")
    return 0
