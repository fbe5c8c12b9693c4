"""``python -m release <subcommand>``: the release toolkit's command line. Each subcommand is
a module (:data:`SUBCOMMANDS`) with ``add_arguments(parser)`` and ``main(args, project)``,
which returns the exit status."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from release.console import error
from release.errors import ReleaseError
from release.project import Project, find_root

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "version": ("version", "print the single version (Cargo.toml [package].version)"),
    "bump": ("bump", "set the version in Cargo.toml and Cargo.lock; regenerate the doc"),
    "check-tag": ("check_tag", "fail unless a tag vX.Y.Z equals the version"),
    "check-name": ("check_name", "fail if an index would refuse the name as too similar"),
    "notes": ("changelog", "print (or write) the tag's CHANGELOG.md entry"),
    "checksums": ("checksums", "write SHA256SUMS for the release files in a directory"),
    "manifest": ("manifest", "print the exact artifact file names of a release"),
    "test-requirements": ("suite_requirements", "write the locked test group, with hashes"),
    "matrix": ("matrix", "print (or write as step outputs) the workflow's job matrices"),
    "inspect": ("inspect_dist", "run every artifact checker on a directory"),
    "check-installs": ("check_installs", "fail if a workflow job would build from source"),
    "check-published": ("check_published", "fail if the index holds other bytes under our names"),
    "compliance": ("compliance", "regenerate MATURIN_COMPLIANCE.md (--check: verify only)"),
    "rehearse": ("rehearse", "rehearse the whole release locally"),
    "test-installed": ("installed", "install into a fresh environment and run the tests"),
    "verify": ("verify", "verify Sigstore bundles, SHA256SUMS, PEP 740 and GitHub attestations"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the chosen subcommand's module is imported, so
    ``test-requirements`` and ``test-installed`` run with the standard library alone."""
    words = sys.argv[1:] if argv is None else argv
    chosen = next((word for word in words if word in SUBCOMMANDS), None)
    parser = argparse.ArgumentParser(prog="python -m release", description="release toolkit")
    parser.add_argument(
        "--root", type=Path, help="repository root (default: found from the current directory)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(f"release.{module}").add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = build_parser(argv).parse_args(argv)
    try:
        project = Project(args.root.resolve() if args.root else find_root())
        module = importlib.import_module(f"release.{SUBCOMMANDS[args.command][0]}")
        return int(module.main(args, project))
    except ReleaseError as exc:
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
