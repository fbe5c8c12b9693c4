"""Progress output shared by every subcommand: steps, details, findings and a summary."""

from __future__ import annotations

import sys


def step(message: str) -> None:
    """Announce the start of a release step."""
    print(f"==> {message}", flush=True)


def detail(message: str) -> None:
    """Print an indented detail line under the current step."""
    print(f"    {message}", flush=True)


def warn(message: str) -> None:
    """Print a warning that does not fail the run (for example a skipped interpreter)."""
    print(f"    warning: {message}", flush=True)


def finding(subject: str, checker: str, message: str) -> None:
    """Print one finding: one line, ``FAIL <checker> <subject>: <message>``."""
    print(f"FAIL {checker} {subject}: {message}", flush=True)


def error(message: str) -> None:
    """Print a fatal error to standard error."""
    print(f"error: {message}", file=sys.stderr, flush=True)
