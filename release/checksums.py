"""``checksums DIR``: write ``SHA256SUMS`` (``sha256sum``'s format, sorted) for a release's
files; read and check it. The sign job writes it over the files it signed; the build
provenance attestation names the same digests and the GitHub release carries it."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from release.console import detail
from release.errors import ReleaseError
from release.project import Project

FILE_NAME = "SHA256SUMS"
#: The release files a SHA256SUMS lists.
PATTERNS = ("*.whl", "*.tar.gz")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def release_files(directory: Path) -> list[Path]:
    """The wheels and sdists in ``directory``, sorted by name."""
    return sorted({p for pattern in PATTERNS for p in directory.glob(pattern)})


def render(files: list[Path]) -> str:
    """SHA256SUMS text for ``files``."""
    return "".join(f"{sha256(p)}  {p.name}\n" for p in sorted(files, key=lambda p: p.name))


def parse(text: str) -> dict[str, str]:
    """File name -> hex digest from SHA256SUMS text."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise ReleaseError(f"{FILE_NAME} line {number} is not '<sha256>  <file>': {line!r}")
        sums[name.lstrip("*")] = digest.lower()
    return sums


def check(artifact: Path, sums: dict[str, str]) -> None:
    """Raise :class:`ReleaseError` unless ``artifact`` is listed with its digest."""
    if artifact.name not in sums:
        raise ReleaseError(f"{artifact.name}: not listed in {FILE_NAME}")
    if sha256(artifact) != sums[artifact.name]:
        raise ReleaseError(f"{artifact.name}: SHA-256 differs from {FILE_NAME}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="directory holding the release files")
    parser.add_argument("--output", type=Path, help=f"file to write (default: DIR/{FILE_NAME})")


def main(args: argparse.Namespace, project: Project) -> int:
    """Write SHA256SUMS for the wheels and sdists in the directory."""
    del project
    files = release_files(args.directory)
    if not files:
        raise ReleaseError(f"no wheels or sdists in {args.directory}")
    output = args.output or args.directory / FILE_NAME
    output.write_text(render(files), encoding="utf-8")
    detail(f"wrote {output} ({len(files)} files)")
    return 0
