"""The local release matrix beyond this machine's own interpreters (``rehearse --part``).

* ``pythons``: the x86_64 manylinux_2_28 wheel installed and tested on CPython 3.14 and
  3.15 from Debian sid (:mod:`release.sid_root`), which this machine does not have;
* ``aarch64``: the aarch64 wheel cross-built here (:mod:`release.cross_build`), inspected
  like a release artifact (auditwheel reports its tag) and tested on CPython 3.14 in an
  arm64 sid root under qemu-user. The whole suite passes there (no test needs a skip
  under emulation; see docs/releasing.md).

A part whose prerequisite is missing (not root, no binfmt_misc, no qemu-user-static, no
route to Debian's registry or to PyPI) is reported SKIPPED with the reason and does not
stop the others; a part that runs and fails raises :class:`ReleaseError`.
"""

from __future__ import annotations

import platform
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from release import cross_build, manylinux, sid_root
from release.console import detail, step
from release.contract import load_contract
from release.errors import ReleaseError
from release.inspect_dist import inspect_directory, report
from release.project import Project
from release.root_tests import installed_suite_in_root

#: The CPythons taken from Debian sid for the x86_64 wheel.
SID_PYTHONS = ("3.14", "3.15")

#: The CPython of the arm64 root.
EMULATED_PYTHON = "3.14"

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
        """One summary line."""
        text = f"{self.status:7} {self.cell}"
        if self.seconds:
            text += f" ({self.seconds / 60:.1f} min)"
        return f"{text}: {self.reason}" if self.reason else text


def _unreachable(url: str) -> str | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15):
            return None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"no route to {url} ({exc})"


def _missing(root: sid_root.SidRoot) -> str | None:
    """Why ``root``'s part cannot run here, or None."""
    reason = sid_root.unavailable(root.arch)
    if reason:
        return reason
    if not root.ready():
        reason = _unreachable(REGISTRY)
        if reason:
            return reason
    return _unreachable(PYPI)


def pythons(project: Project, dist: Path, version: str) -> list[Outcome]:
    """Test the x86_64 wheel of ``dist`` on sid's CPython 3.14 and 3.15."""
    cells = [f"CPython {p} x86_64 (sid root)" for p in SID_PYTHONS]
    if platform.machine() != "x86_64":
        return [Outcome(c, "SKIPPED", "the sid amd64 root needs an x86_64 host") for c in cells]
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
    if platform.machine() != "x86_64":
        reason = "the cross build runs in a sid amd64 root, which needs an x86_64 host"
        return [Outcome(build_cell, "SKIPPED", reason), Outcome(test_cell, "SKIPPED", reason)]
    reason = _missing(sid_root.AMD64)
    if reason:
        return [Outcome(build_cell, "SKIPPED", reason), Outcome(test_cell, "SKIPPED", reason)]
    contract = load_contract(project)
    target = next(t for t in contract.targets if t.rust_target == cross_build.RUST_TARGET)
    started = time.monotonic()
    wheel = cross_build.build(project, out)
    step(f"inspect {out} (auditwheel reports the aarch64 wheel's tag)")
    if report(inspect_directory(project, out, version=version, manifest=False)) != 0:
        raise ReleaseError("inspection of the aarch64 wheel failed")
    expected = manylinux.expected_wheel(project, contract, target, version)
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
