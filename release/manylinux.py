"""The Linux wheel built as the release builds it: tagged ``manylinux_2_28``, without Docker.

The release workflow builds its Linux wheels in maturin's manylinux_2_28 container. The
rehearsal cannot run containers, so on Linux it links with ``maturin --zig``: zig's linker
and C compiler target glibc 2.28 whatever the host's glibc is (PyPI's ``ziglang`` provides
zig; ``uv tool run --with`` puts it next to the pinned maturin). ``auditwheel show`` in the
inspection then confirms the tag from the symbols the wheel really needs, and the wheel's
file name is the release manifest's name for that target (:func:`expected_wheel`).
"""

from __future__ import annotations

import platform
import sys

from release import build_settings
from release.contract import Contract, Target
from release.errors import ReleaseError
from release.manifest import wheel_name
from release.project import Project

#: The zig that links the manylinux wheel (PyPI's ``ziglang``).
ZIGLANG_VERSION = "0.15.2"


def applies() -> bool:
    """Whether this machine builds its wheel with zig (Linux only)."""
    return sys.platform == "linux"


def maturin_command() -> list[str]:
    """The pinned maturin, with PyPI's zig beside it."""
    command = build_settings.maturin_command()
    return [*command[:-1], "--with", f"ziglang=={ZIGLANG_VERSION}", command[-1]]


def host_target(contract: Contract) -> Target:
    """The contract's Linux target for this machine's CPU."""
    rust_target = f"{platform.machine()}-unknown-linux-gnu"
    for target in contract.targets:
        if target.rust_target == rust_target:
            return target
    raise ReleaseError(f"the contract has no Linux target {rust_target}")


def build_args(target: Target) -> list[str]:
    """maturin build arguments for ``target``: the release's, plus zig for its manylinux."""
    if not target.manylinux:
        raise ReleaseError(f"target {target.id} has no manylinux level")
    return [
        *build_settings.MATURIN_BUILD_ARGS,
        "--zig",
        "--compatibility",
        f"manylinux_{target.manylinux}",
    ]


def expected_wheel(project: Project, contract: Contract, target: Target, version: str) -> str:
    """The release manifest's wheel name for ``target``."""
    return wheel_name(project, contract, version, target.platform_tag)
