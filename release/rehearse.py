"""``rehearse``: the whole release on this machine, minus the parts that need GitHub.

Part ``host``: verify (tag and compliance), build the sdist and this machine's wheel with the
pinned maturin (on Linux at the contract's manylinux level, :mod:`release.build_settings`), inspect
both, build a wheel from the unpacked sdist and compare, upload to a local pypiserver with
twine, then install the exact version from it and run the tests on every local contract
CPython. Parts ``pythons`` and ``aarch64`` (:mod:`release.local_matrix`) test CPython 3.14/3.15
from a Debian sid root and the cross-built aarch64 wheel under qemu-user. A part that cannot
run is SKIPPED with its reason, which fails the rehearsal under ``CI=true``. Signing,
TestPyPI, PyPI and the GitHub release need GitHub's OIDC identity and are not rehearsed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from release import build_settings, check_tag, local_matrix
from release.console import detail, step, warn
from release.contract import load_contract
from release.errors import ReleaseError
from release.index_server import LocalIndex
from release.inspect_dist import inspect_directory, report
from release.interpreters import find_cpython
from release.process import run
from release.project import Project

#: The parts ``--part`` can run alone (``all`` runs each, in this order).
PARTS = ("host", "pythons", "aarch64")
#: Bound on one maturin build (a cold fat-LTO build takes a few minutes on 2 cores).
BUILD_TIMEOUT = 2400


def _maturin(project: Project, command: str, out: Path, *args: str, capture: bool = False) -> str:
    """``maturin COMMAND --out OUT``; a build takes the release's arguments (on Linux, for the
    contract's manylinux level)."""
    if command == "build":
        args = (*build_settings.build_args(load_contract(project)), *args)
    target_dir = os.environ.get("CARGO_TARGET_DIR") or str(project.root / "target" / "rehearse")
    env = {"CARGO_TARGET_DIR": target_dir, "UV_PYTHON_DOWNLOADS": "never"}
    maturin = [*build_settings.maturin_command(), command, *args, "--out", str(out)]
    result = run(maturin, cwd=project.root, env=env, timeout=BUILD_TIMEOUT, capture=capture)
    return result.stdout or ""


def _wheel_contents(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {n for n in archive.namelist() if ".dist-info/" not in n}


def _unpack_sdist(sdist: Path, into: Path) -> Path:
    """Unpack the sdist and touch its files, so Cargo recompiles the crate from them in the
    shared target directory instead of taking the checkout build as fresh."""
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    (top,) = list(into.iterdir())
    now = time.time()
    for path in top.rglob("*"):
        os.utime(path, (now, now))
    return top


def _check_linux_name(project: Project, dist: Path, version: str) -> None:
    """On Linux, the wheel must carry the release manifest's name for this CPU's target."""
    if not build_settings.ZIG:
        return
    expected = build_settings.host_wheel(project, load_contract(project), version)
    if not (dist / expected).is_file():
        found = sorted(p.name for p in dist.glob("*.whl"))
        raise ReleaseError(f"expected {expected} (the release manifest's name), found {found}")
    detail(f"{expected} is the release manifest's name (auditwheel confirmed its tag)")


def _linux_wheel_only(project: Project, dist: Path) -> None:
    """Build just this machine's wheel (``--part pythons`` without ``--part host``)."""
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    step(f"build the host wheel (maturin {build_settings.MATURIN_VERSION})")
    _maturin(project, "build", dist)
    _check_linux_name(project, dist, project.version)


def _test(project: Project, python: str, version: str, **source: object) -> None:
    from release import installed

    fields = {"dist": None, "index_url": None, "attempts": 1, **source}
    args = argparse.Namespace(version=version, python=python, expect_machine=None, via="native",
                              **fields)  # fmt: skip
    installed.install_and_test(args, project)


def rehearse(project: Project, out: Path, pythons: list[str]) -> list[str]:
    """Run the host part; return the Pythons skipped as absent. Raises on failure."""
    from release import compliance

    version = project.version
    started = time.monotonic()
    step(f"[1/7] verify version {version} and the compliance document")
    if problems := check_tag.problems(f"v{version}", project):
        raise ReleaseError("; ".join(problems))
    if compliance.check(project) != 0:
        raise ReleaseError("compliance check failed (see above)")

    shutil.rmtree(out, ignore_errors=True)
    dist, sdist_out, index_dir = out / "dist", out / "sdist-wheel", out / "index"
    for directory in (dist, sdist_out, index_dir):
        directory.mkdir(parents=True)
    step(f"[2/7] build the sdist and the host wheel (maturin {build_settings.MATURIN_VERSION})")
    _maturin(project, "sdist", dist)
    _maturin(project, "build", dist)

    step(f"[3/7] inspect {dist} (host-only manifest)")
    if report(inspect_directory(project, dist, version=version, host_only=True)) != 0:
        raise ReleaseError("inspection of the built artifacts failed")
    _check_linux_name(project, dist, version)

    step("[4/7] build a wheel from the unpacked sdist and inspect it")
    (sdist,) = dist.glob("*.tar.gz")
    # Outside the checkout: inside it, Cargo would take the checkout's workspace for the sdist's.
    source = _unpack_sdist(sdist, Path(tempfile.mkdtemp(prefix="web-transport-python-sdist-")))
    manifest = str(source / "Cargo.toml")
    output = _maturin(project, "build", sdist_out, "--manifest-path", manifest, capture=True)
    print(output, flush=True)
    if f"Compiling {project.crate_name} v{version} ({source})" not in output:
        raise ReleaseError("cargo did not compile the crate from the unpacked sdist sources")
    if report(inspect_directory(project, sdist_out, version=version, manifest=False)) != 0:
        raise ReleaseError("inspection of the sdist-built wheel failed")
    (host_wheel,) = dist.glob("*.whl")
    (sdist_wheel,) = sdist_out.glob("*.whl")
    if differ := _wheel_contents(host_wheel) ^ _wheel_contents(sdist_wheel):
        raise ReleaseError(f"the sdist-built wheel's files differ: {sorted(differ)}")

    found = {p: find_cpython(p) for p in pythons}
    first = next((i for i in found.values() if i), None)
    if first is None:
        raise ReleaseError(f"no CPython of {pythons} found; nothing was tested")
    step("[5/7] start a local index and upload with twine")
    with LocalIndex(index_dir, out / "pypiserver.log") as index:
        files = map(str, sorted(dist.iterdir()))
        run([sys.executable, "-m", "twine", "upload", "--non-interactive",
             "--disable-progress-bar", "--repository-url", index.url, "--username", "rehearsal",
             "--password", "rehearsal", *files], timeout=120)  # fmt: skip
        step(f"[6/7] install {project.dist_name}=={version} from {index.simple_url} and test")
        for python, interpreter in found.items():
            if interpreter is None:
                warn(f"CPython {python} not found on this machine: skipped (the workflows test it)")
                continue
            step(f"CPython {python} ({interpreter}) from the local index")
            _test(project, interpreter, version, index_url=index.simple_url, attempts=3)
        step(f"the sdist-built wheel on {first}")
        _test(project, first, version, dist=str(sdist_out))
        step("[7/7] stop the local index")
    detail(f"rehearsal took {(time.monotonic() - started) / 60:.1f} min; artifacts in {out}")
    return [p for p, interpreter in found.items() if interpreter is None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="default: target/rehearse-release")
    parser.add_argument("--python", action="append", dest="pythons",
                        help="CPython X.Y (repeatable; default: the contract's)")  # fmt: skip
    parser.add_argument("--part", action="append", choices=PARTS, dest="parts",
                        help="run only this part (repeatable; default: all)")  # fmt: skip


def fail_skips_under_ci(outcomes: list[local_matrix.Outcome]) -> None:
    """Under ``CI=true`` a part that did not run fails the rehearsal, naming its reason."""
    skipped = [o.line() for o in outcomes if o.status == "SKIPPED"]
    if skipped and os.environ.get("CI") == "true":
        raise ReleaseError("CI=true and a part did not run: " + "; ".join(skipped))


def main(args: argparse.Namespace, project: Project) -> int:
    pythons = args.pythons or list(load_contract(project).pythons)
    out = (args.out or project.root / "target" / "rehearse-release").resolve()
    parts = args.parts or list(PARTS)
    outcomes: list[local_matrix.Outcome] = []
    if "host" in parts:
        started = time.monotonic()
        skipped = rehearse(project, out, pythons)
        tested = ", ".join(p for p in pythons if p not in skipped)
        seconds = time.monotonic() - started
        outcomes.append(local_matrix.Outcome(f"host: CPython {tested}", "passed", seconds=seconds))
        covered = local_matrix.SID_PYTHONS if "pythons" in parts else ()  # tested there
        outcomes += [local_matrix.Outcome(f"host: CPython {p}", "SKIPPED", "not installed here")
                     for p in skipped if p not in covered]  # fmt: skip
    if "pythons" in parts:
        if "host" not in parts:
            _linux_wheel_only(project, out / "dist")
        outcomes += local_matrix.pythons(project, out / "dist", project.version)
    if "aarch64" in parts:
        outcomes += local_matrix.aarch64(project, out / "aarch64", project.version)
    step("rehearsal summary")
    for outcome in outcomes:
        print(outcome.line(), flush=True)
    fail_skips_under_ci(outcomes)
    print("rehearsal passed (SKIPPED parts were not tested)", flush=True)
    return 0
