"""Running external commands with a bounded wait and readable progress output."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from release.console import detail
from release.errors import ReleaseError

#: Default bound, in seconds, on any single external command.
DEFAULT_TIMEOUT = 600


def display(cmd: Sequence[str | os.PathLike[str]]) -> str:
    """Render a command line the way a maintainer would type it."""
    return shlex.join(str(part) for part in cmd)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    capture: bool = False,
    check: bool = True,
    echo: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` and wait at most ``timeout`` seconds.

    With ``capture`` the output is returned instead of streamed. With ``check`` a non-zero
    exit raises :class:`ReleaseError` naming the command.
    """
    if echo:
        detail(f"$ {display(cmd)}")
    merged_env = None if env is None else {**os.environ, **env}
    try:
        result = subprocess.run(
            [str(part) for part in cmd],
            cwd=cwd,
            env=merged_env,
            timeout=timeout,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ReleaseError(f"timed out after {timeout:.0f}s: {display(cmd)}") from exc
    except FileNotFoundError as exc:
        raise ReleaseError(f"command not found: {cmd[0]}") from exc
    if check and result.returncode != 0:
        tail = ""
        if capture and result.stdout:
            tail = "\n" + "\n".join(result.stdout.strip().splitlines()[-40:])
        raise ReleaseError(f"exit {result.returncode}: {display(cmd)}{tail}")
    return result
