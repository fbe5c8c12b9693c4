"""The rehearsal's parts beyond this machine's own interpreters (``rehearse --part``).

``pythons`` tests the x86_64 manylinux wheel on CPython 3.14 and 3.15 in a Debian sid root
(:mod:`release.sid_root`); ``aarch64`` cross-builds the aarch64 wheel
(:mod:`release.cross_build`), inspects it like a release artifact and tests it on CPython 3.14
in an arm64 sid root under qemu-user (the whole suite passes there; docs/releasing.md). A part
whose prerequisite is missing (an x86_64 host, root, binfmt_misc, qemu-user-static, a route
to Debian or PyPI) is SKIPPED with the reason; a part that runs and fails raises ReleaseError.
"""

from __future__ import annotations

import platform
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from release import cross_build, sid_root
from release.console import detail, step
from release.contract import load_contract
from release.errors import ReleaseError
from release.inspect_dist import inspect_directory, report
from release.manifest import wheel_name
from release.project import Project
from release.root_tests import installed_suite_in_root

SID_PYTHONS = ("3.14", "3.15")  # the x86_64 wheel's, from Debian sid
EMULATED_PYTHON = "3.14"  # the arm64 root's

#: What a part needs from the network (checked before anything is made).
REGISTRY = f"{sid_root.MIRROR}/dists/{sid_root.SUITE}/InRelease"
PYPI = "https://pypi.org/simple/pip/"


@dataclass(frozen=True)
class Outcome:
    """One cell of the local matrix: ``passed`` or ``SKIPPED`` with the reason."""

    cell: str
    status: str
    reason: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        took = f" ({self.seconds / 60:.1f} min)" if self.seconds else ""
        return f"{self.status:7} {self.cell}{took}" + (f": {self.reason}" if self.reason else "")


def _missing(root: sid_root.SidRoot) -> str | None:
    """Why ``root``'s part cannot run here, or None."""
    if platform.machine() != "x86_64":
        return "the sid roots are made on an x86_64 host (arm64 runs there under qemu-user)"
    if reason := sid_root.unavailable(root.arch):
        return reason
    for url in (PYPI,) if root.ready() else (REGISTRY, PYPI):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15):
                pass
        except OSError as exc:  # URLError and TimeoutError included
            return f"no route to {url} ({exc})"
    return None


def pythons(project: Project, dist: Path, version: str) -> list[Outcome]:
    """Test the x86_64 wheel of ``dist`` on sid's CPython 3.14 and 3.15."""
    cells = [f"CPython {p} x86_64 (sid root)" for p in SID_PYTHONS]
    reason = _missing(sid_root.AMD64)
    if reason:
        return [Outcome(c, "SKIPPED", reason) for c in cells]
    sid_root.AMD64.ensure()
    outcomes = []
    for python, cell in zip(SID_PYTHONS, cells, strict=True):
        started = time.monotonic()
        installed_suite_in_root(sid_root.AMD64, project, dist, python, version, "x86_64")
        outcomes.append(Outcome(cell, "passed", seconds=time.monotonic() - started))
    return outcomes


def aarch64(project: Project, out: Path, version: str) -> list[Outcome]:
    """Cross-build, inspect and test (under qemu-user) the aarch64 wheel in ``out``."""
    build_cell = "aarch64 wheel (cross-built, inspected)"
    test_cell = f"CPython {EMULATED_PYTHON} aarch64 (qemu-user, sid arm64 root)"
    reason = _missing(sid_root.AMD64)
    if reason:
        return [Outcome(cell, "SKIPPED", reason) for cell in (build_cell, test_cell)]
    contract = load_contract(project)
    target = next(t for t in contract.targets if t.rust_target == cross_build.RUST_TARGET)
    started = time.monotonic()
    wheel = cross_build.build(project, out)
    step(f"inspect {out} (auditwheel reports the aarch64 wheel's tag)")
    if report(inspect_directory(project, out, version=version, manifest=False)) != 0:
        raise ReleaseError("inspection of the aarch64 wheel failed")
    expected = wheel_name(project, contract, version, target.platform_tag)
    if wheel.name != expected:
        raise ReleaseError(f"the aarch64 wheel is {wheel.name}; the release ships {expected}")
    detail(f"{wheel.name} is the release manifest's name for {target.id}")
    outcomes = [Outcome(build_cell, "passed", wheel.name, time.monotonic() - started)]
    reason = _missing(sid_root.ARM64)
    if reason:
        return [*outcomes, Outcome(test_cell, "SKIPPED", reason)]
    started = time.monotonic()
    sid_root.ARM64.ensure()
    installed_suite_in_root(sid_root.ARM64, project, out, EMULATED_PYTHON, version, "aarch64")
    return [*outcomes, Outcome(test_cell, "passed", seconds=time.monotonic() - started)]
