"""``bump X.Y.Z``: set the single version (Cargo.toml, this crate's Cargo.lock entry), date
CHANGELOG.md's ``[Unreleased]`` notes as ``[X.Y.Z]`` and regenerate MATURIN_COMPLIANCE.md."""

from __future__ import annotations

import argparse
import datetime
import re

from release.console import detail, error, step
from release.errors import ReleaseError
from release.project import CARGO_LOCK, CARGO_TOML, CHANGELOG, Project

VERSION_RE = re.compile(r"\d+\.\d+\.\d+")


def set_cargo_toml_version(text: str, version: str) -> str:
    """Return Cargo.toml's text with ``[package].version`` set to ``version``."""
    match = re.search(r"(?ms)^\[package\]\s*$(.*?)(?=^\[|\Z)", text)
    if not match:
        raise ReleaseError(f"{CARGO_TOML}: no [package] table")
    body = match.group(1)
    new_body, count = re.subn(
        r'(?m)^(version\s*=\s*)"[^"]*"', lambda m: f'{m.group(1)}"{version}"', body, count=1
    )
    if count != 1:
        raise ReleaseError(f"{CARGO_TOML}: no version in [package]")
    return text[: match.start(1)] + new_body + text[match.end(1) :]


def set_cargo_lock_version(text: str, crate: str, version: str) -> str:
    """Return Cargo.lock's text with the local crate's entry set to ``version``."""
    pattern = re.compile(
        rf'(?m)^(\[\[package\]\]\nname = "{re.escape(crate)}"\nversion = )"[^"]*"$'
    )
    new_text, count = pattern.subn(lambda m: f'{m.group(1)}"{version}"', text)
    if count != 1:
        raise ReleaseError(f"{CARGO_LOCK}: expected one entry for {crate}, found {count}")
    return new_text


def set_changelog_version(text: str, version: str, date: str) -> str:
    """Return CHANGELOG.md's text with the ``[Unreleased]`` notes moved under a new
    ``## [version] - date`` heading (unchanged if the version already has one)."""
    if re.search(rf"(?m)^## \[{re.escape(version)}\]", text):
        return text
    heading = "## [Unreleased]\n"
    if heading not in text:
        raise ReleaseError(f"{CHANGELOG}: no '## [Unreleased]' section to release")
    return text.replace(heading, f"{heading}\n## [{version}] - {date}\n", 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("new_version", metavar="X.Y.Z")


def main(args: argparse.Namespace, project: Project) -> int:
    """Set the version, then regenerate the compliance document."""
    from release import compliance

    version = args.new_version
    if not VERSION_RE.fullmatch(version):
        error(f"{version!r} is not X.Y.Z")
        return 2
    step(f"bump {project.version} -> {version}")
    today = datetime.date.today().isoformat()
    edits = {
        CARGO_TOML: lambda text: set_cargo_toml_version(text, version),
        CARGO_LOCK: lambda text: set_cargo_lock_version(text, project.crate_name, version),
        CHANGELOG: lambda text: set_changelog_version(text, version, today),
    }
    for name, edit in edits.items():
        path = project.path(name)
        if path.is_file() or name != CHANGELOG:
            path.write_text(edit(path.read_text("utf-8")), "utf-8")
            detail(f"wrote {name}")
    status = compliance.regenerate(project)
    detail("next: review the diff, commit, then tag v" + version + " (see docs/releasing.md)")
    return status
