"""Progress output shared by every subcommand."""

from __future__ import annotations

import sys


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def detail(message: str) -> None:
    print(f"    {message}", flush=True)


def warn(message: str) -> None:
    print(f"    warning: {message}", flush=True)


def finding(subject: str, checker: str, message: str) -> None:
    print(f"FAIL {checker} {subject}: {message}", flush=True)


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
