"""How the rehearsal builds, kept in one place so the compliance rules can check it."""

from __future__ import annotations

import os
import shutil

from release.errors import ReleaseError

#: The maturin version every build uses (the workflows pin the same one).
MATURIN_VERSION = "1.16.0"

#: The uv version every workflow's setup-uv installs and the sid roots use (rule `uv-pinned`).
UV_VERSION = "0.13.9"

#: The constraints file pinning maturin inside cibuildwheel's isolated builds.
BUILD_CONSTRAINTS = ".github/build-constraints.txt"

#: Arguments of the release wheel build: release profile (fat LTO), Cargo.lock enforced.
MATURIN_BUILD_ARGS = ("--release", "--locked")


def uv_binary() -> str | None:
    """The uv executable: ``$UV`` (set by ``uv run``), else the first ``uv`` on PATH."""
    return os.environ.get("UV") or shutil.which("uv")


def maturin_command() -> list[str]:
    """The command that runs the pinned maturin (``uv tool run``, nothing installed)."""
    uv = uv_binary()
    if uv is None:
        raise ReleaseError("uv is needed to run maturin (https://docs.astral.sh/uv/)")
    return [uv, "tool", "run", f"maturin=={MATURIN_VERSION}"]
