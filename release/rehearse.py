"""``rehearse``: the whole release on this machine, minus the parts that need GitHub.

1. verify: the version is coherent and MATURIN_COMPLIANCE.md is current with every rule
   passing (the release workflow's ``verify`` job);
2. build the sdist and this machine's wheel with the pinned maturin, release profile,
   ``--locked`` (``CARGO_TARGET_DIR`` defaults to ``target/rehearse``);
3. inspect them (every checker; the manifest in host-only mode, since only this machine's
   wheel exists);
4. build a wheel from the unpacked sdist and inspect it;
5. start pypiserver on 127.0.0.1, upload the sdist and the wheel with twine;
6. for every local CPython of the contract (absent ones are skipped, with a message):
   install the exact version from that index into a fresh environment and run the tests
   there (``test-installed``); also test the sdist-built wheel once;
7. stop the index.

These are the ``host`` part. Two more parts (:mod:`release.local_matrix`) cover the rest of the
Linux matrix: ``pythons`` tests the same wheel on CPython 3.14 and 3.15 from a Debian sid
root, ``aarch64`` cross-builds the aarch64 wheel and tests it under qemu-user. ``--part``
runs one alone; by default all three run, and a part whose prerequisite is missing is
reported SKIPPED with its reason (under ``CI=true`` any SKIPPED part fails the rehearsal).
On Linux the wheel is linked for the contract's manylinux level as the release does
(:mod:`release.manylinux`).

Signing, TestPyPI, PyPI and the GitHub release need GitHub's OIDC identity and are not
rehearsed. Exits non-zero on any failure; every wait is bounded.
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

from release import build_settings, check_tag, local_matrix, manylinux
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


def _build_env(project: Project) -> dict[str, str]:
    target_dir = os.environ.get("CARGO_TARGET_DIR") or str(project.root / "target" / "rehearse")
    return {"CARGO_TARGET_DIR": target_dir, "UV_PYTHON_DOWNLOADS": "never"}


def _maturin(project: Project, *args: str, capture: bool = False) -> str:
    command = (
        manylinux.maturin_command() if manylinux.applies() else build_settings.maturin_command()
    )
    result = run(
        [*command, *args],
        cwd=project.root,
        env=_build_env(project),
        timeout=BUILD_TIMEOUT,
        capture=capture,
    )
    return result.stdout or ""


def _wheel_contents(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {n for n in archive.namelist() if ".dist-info/" not in n}


def _unpack_sdist(sdist: Path, into: Path) -> Path:
    """Unpack the sdist and mark its files as new.

    The rehearsal reuses the Cargo target directory of the checkout build (so dependencies
    are not compiled twice). Cargo would then consider the crate fresh; touching the
    unpacked sources makes it recompile the crate from the sdist's files.
    """
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    (top,) = list(into.iterdir())
    now = time.time()
    for path in top.rglob("*"):
        os.utime(path, (now, now))
    return top


def _namespace(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**values)


def _build_args(project: Project) -> list[str]:
    """The release's build arguments; on Linux, for the contract's manylinux level."""
    if not manylinux.applies():
        return list(build_settings.MATURIN_BUILD_ARGS)
    return manylinux.build_args(manylinux.host_target(load_contract(project)))


def _check_linux_name(project: Project, dist: Path, version: str) -> None:
    """On Linux, the wheel must carry the release manifest's name for this CPU's target."""
    if not manylinux.applies():
        return
    contract = load_contract(project)
    expected = manylinux.expected_wheel(project, contract, manylinux.host_target(contract), version)
    if not (dist / expected).is_file():
        found = sorted(p.name for p in dist.glob("*.whl"))
        raise ReleaseError(f"expected {expected} (the release manifest's name), found {found}")
    detail(f"{expected} is the release manifest's name (auditwheel confirmed its tag)")


def _linux_wheel_only(project: Project, dist: Path) -> None:
    """Build just this machine's wheel (``--part pythons`` without ``--part host``)."""
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    step(f"build the host wheel (maturin {build_settings.MATURIN_VERSION})")
    _maturin(project, "build", *_build_args(project), "--out", str(dist))
    _check_linux_name(project, dist, project.version)


def rehearse(project: Project, out: Path, pythons: list[str]) -> list[str]:
    """Run the rehearsal; return the list of skipped Pythons. Raises on failure."""
    from release import compliance, installed

    version = project.version
    load_contract(project)
    total = 7
    started = time.monotonic()

    step(f"[1/{total}] verify version {version} and the compliance document")
    problems = check_tag.problems(f"v{version}", project)
    if problems:
        raise ReleaseError("; ".join(problems))
    if compliance.check(project) != 0:
        raise ReleaseError("compliance check failed (see above)")

    if out.exists():
        shutil.rmtree(out)
    dist, sdist_out, index_dir = out / "dist", out / "sdist-wheel", out / "index"
    for directory in (dist, sdist_out, index_dir):
        directory.mkdir(parents=True)

    step(
        f"[2/{total}] build the sdist and the host wheel (maturin {build_settings.MATURIN_VERSION})"
    )
    _maturin(project, "sdist", "--out", str(dist))
    _maturin(project, "build", *_build_args(project), "--out", str(dist))

    step(f"[3/{total}] inspect {dist} (host-only manifest)")
    if report(inspect_directory(project, dist, version=version, host_only=True)) != 0:
        raise ReleaseError("inspection of the built artifacts failed")
    _check_linux_name(project, dist, version)

    step(f"[4/{total}] build a wheel from the unpacked sdist and inspect it")
    (sdist,) = dist.glob("*.tar.gz")
    # Unpack outside the checkout: inside it, Cargo would take the checkout's workspace
    # (Cargo.toml [workspace]) for the sdist's, as it never would for a user.
    source = _unpack_sdist(sdist, Path(tempfile.mkdtemp(prefix="web-transport-python-sdist-")))
    detail("building from the unpacked sdist (cargo output is shown when it finishes)")
    output = _maturin(
        project, "build", *_build_args(project),
        "--manifest-path", str(source / "Cargo.toml"), "--out", str(sdist_out),
        capture=True,
    )  # fmt: skip
    print(output, flush=True)
    if f"Compiling {project.crate_name} v{version} ({source})" not in output:
        raise ReleaseError("cargo did not compile the crate from the unpacked sdist sources")
    if report(inspect_directory(project, sdist_out, version=version, manifest=False)) != 0:
        raise ReleaseError("inspection of the sdist-built wheel failed")
    (host_wheel,) = dist.glob("*.whl")
    (sdist_wheel,) = sdist_out.glob("*.whl")
    if _wheel_contents(host_wheel) != _wheel_contents(sdist_wheel):
        raise ReleaseError(
            "the sdist-built wheel's files differ from the wheel built from the checkout: "
            f"{sorted(_wheel_contents(host_wheel) ^ _wheel_contents(sdist_wheel))}"
        )
    detail("the sdist-built wheel holds the same files as the checkout-built wheel")

    skipped: list[str] = []
    found = {p: find_cpython(p) for p in pythons}
    step(f"[5/{total}] start a local index and upload with twine")
    with LocalIndex(index_dir, out / "pypiserver.log") as index:
        run(
            [
                sys.executable,
                "-m",
                "twine",
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "--repository-url",
                index.url,
                "--username",
                "rehearsal",
                "--password",
                "rehearsal",
                *map(str, sorted(dist.iterdir())),
            ],
            timeout=120,
        )
        step(f"[6/{total}] install {project.dist_name}=={version} from {index.simple_url} and test")
        for python, interpreter in found.items():
            if interpreter is None:
                warn(f"CPython {python} not found on this machine: skipped (the workflows test it)")
                skipped.append(python)
                continue
            step(f"CPython {python} ({interpreter}) from the local index")
            installed.install_and_test(
                _namespace(
                    dist=None,
                    index_url=index.simple_url,
                    version=version,
                    python=interpreter,
                    expect_machine=None,
                    via="native",
                    attempts=3,
                ),
                project,
            )
        first = next((i for i in found.values() if i), None)
        if first is None:
            raise ReleaseError(f"no CPython of {pythons} found; nothing was tested")
        step(f"the sdist-built wheel on {first}")
        installed.install_and_test(
            _namespace(
                dist=str(sdist_out),
                index_url=None,
                version=version,
                python=first,
                expect_machine=None,
                via="native",
                attempts=1,
            ),
            project,
        )
        step(f"[7/{total}] stop the local index")
    minutes = (time.monotonic() - started) / 60
    detail(f"rehearsal took {minutes:.1f} min; artifacts in {out}")
    return skipped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``rehearse``."""
    parser.add_argument(
        "--out", type=Path, help="working directory (default: target/rehearse-release)"
    )
    parser.add_argument(
        "--python", action="append", dest="pythons",
        help="CPython X.Y to test (repeatable; default: every contract Python)",
    )  # fmt: skip
    parser.add_argument(
        "--part", action="append", choices=PARTS, dest="parts",
        help="run only this part (repeatable; default: all): host = the steps above on this "
        "machine's CPythons; pythons = CPython 3.14/3.15 from a Debian sid root; aarch64 = "
        "cross-build the aarch64 wheel and test it under qemu-user (see release/local_matrix.py)",
    )  # fmt: skip


def fail_skips_under_ci(outcomes: list[local_matrix.Outcome]) -> None:
    """Under ``CI=true`` a part that did not run fails the rehearsal, naming its reason."""
    skipped = [o.line() for o in outcomes if o.status == "SKIPPED"]
    if skipped and os.environ.get("CI") == "true":
        raise ReleaseError("CI=true and a part did not run: " + "; ".join(skipped))


def main(args: argparse.Namespace, project: Project) -> int:
    """Run ``rehearse``."""
    contract = load_contract(project)
    pythons = args.pythons or list(contract.pythons)
    out = (args.out or project.root / "target" / "rehearse-release").resolve()
    parts = args.parts or list(PARTS)
    outcomes: list[local_matrix.Outcome] = []
    if "host" in parts:
        started = time.monotonic()
        skipped = rehearse(project, out, pythons)
        tested = [p for p in pythons if p not in skipped]
        outcomes.append(
            local_matrix.Outcome(f"host: CPython {', '.join(tested)}", "passed",
                           seconds=time.monotonic() - started)
        )  # fmt: skip
        covered = local_matrix.SID_PYTHONS if "pythons" in parts else ()
        outcomes += [
            local_matrix.Outcome(f"host: CPython {p}", "SKIPPED", "not installed here")
            for p in skipped
            if p not in covered  # the pythons part tests it
        ]
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
