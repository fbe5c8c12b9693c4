"""How the rehearsal builds, kept in one place so the compliance rules can check it.

The release builds its Linux wheels in maturin's manylinux_2_28 container; the rehearsal
cannot run containers, so on Linux it links with ``maturin --zig`` (PyPI's ``ziglang``, put
next to the pinned maturin by ``uv tool run --with``), which targets glibc 2.28 whatever the
host's glibc. The inspection's ``auditwheel show`` then confirms the tag, and the wheel's name
is the release manifest's name for that target (:func:`host_wheel`).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from release.errors import ReleaseError

if TYPE_CHECKING:
    from release.contract import Contract, Target
    from release.project import Project

#: The contract's maturin (the workflows pin the same one).
MATURIN_VERSION = str(
    tomllib.loads(Path(__file__).with_name("contract.toml").read_text(encoding="utf-8"))["maturin"]
)

#: The uv version every workflow's setup-uv installs and the sid roots use (rule `uv-pinned`).
UV_VERSION = "0.13.9"

ZIGLANG_VERSION = "0.15.2"  # PyPI's ``ziglang``, which links the manylinux wheel on Linux

#: Pins maturin inside cibuildwheel's isolated builds.
BUILD_CONSTRAINTS = ".github/build-constraints.txt"

#: Arguments of the release wheel build: release profile (fat LTO), Cargo.lock enforced.
MATURIN_BUILD_ARGS = ("--release", "--locked")

ZIG = sys.platform == "linux"  # this machine builds the release's manylinux wheel, with zig


def uv_binary() -> str | None:
    """The uv executable: ``$UV`` (set by ``uv run``), else the first ``uv`` on PATH."""
    return os.environ.get("UV") or shutil.which("uv")


def maturin_command() -> list[str]:
    """The command that runs the pinned maturin (``uv tool run``, nothing installed), with
    PyPI's zig beside it on Linux."""
    uv = uv_binary()
    if uv is None:
        raise ReleaseError("uv is needed to run maturin (https://docs.astral.sh/uv/)")
    zig = ["--with", f"ziglang=={ZIGLANG_VERSION}"] if ZIG else []
    return [uv, "tool", "run", *zig, f"maturin=={MATURIN_VERSION}"]


def build_args(contract: Contract) -> list[str]:
    """The release's build arguments, plus on Linux zig for the manylinux level of this CPU's
    target."""
    if not ZIG:
        return list(MATURIN_BUILD_ARGS)
    level = _host_target(contract).manylinux
    return [*MATURIN_BUILD_ARGS, "--zig", "--compatibility", f"manylinux_{level}"]


def _host_target(contract: Contract) -> Target:
    rust_target = f"{platform.machine()}-unknown-linux-gnu"
    for target in contract.targets:
        if target.rust_target == rust_target and target.manylinux:
            return target
    raise ReleaseError(f"the contract has no Linux target {rust_target} with a manylinux level")


def host_wheel(project: Project, contract: Contract, version: str) -> str:
    """The release manifest's name of the Linux wheel for this CPU."""
    from release.manifest import wheel_name

    return wheel_name(project, contract, version, _host_target(contract).platform_tag)
