"""``test-installed``: install the package into a fresh environment and test it there.

The wheel comes from a directory (``--dist``: the one that installs here) or, by exact
version, from an index (``--index-url``: TestPyPI, or the rehearsal's pypiserver). From a
temporary directory where the checkout's ``python/`` is not importable, an import smoke test
proves ``web_transport`` and its extension load from site-packages at the expected version
(and, with ``--expect-machine``, CPU); then ``tests/unit`` and ``tests/integration`` run with
exactly ``uv.lock``'s ``test`` group (hash-checked). ``--container debian|alpine`` runs the
same inside ``python:X.Y-slim|alpine``; ``--via qemu`` makes that container aarch64 under
QEMU. Standard library only, so it also runs in a bare container.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from release.build_settings import uv_binary
from release.console import detail, step, warn
from release.contract import CONTAINERS, VIAS
from release.errors import ReleaseError
from release.interpreters import find_cpython
from release.process import run
from release.project import Project
from release.suite_requirements import export_locked, install_arguments

#: The test directories run against the installed wheel.
SUITES = ("tests/unit", "tests/integration")
#: Bound on the whole test-suite run, in seconds.
SUITE_TIMEOUT = 3600
#: Seconds between attempts to install from an index that may not have the upload yet.
RETRY_DELAY = 30
#: Environment of the smoke test and the suites: the checkout is not importable.
ISOLATED = {"PYTHONSAFEPATH": "1", "PYTHONPATH": ""}
#: ``--container`` value -> suffix of the official ``python:X.Y`` image tag.
IMAGE_SUFFIX = {"debian": "slim", "alpine": "alpine"}

SMOKE = r"""
import importlib, json, platform, sys, sysconfig
import {name}
ext = importlib.import_module("{name}.{ext}")
print(json.dumps({{
    "file": {name}.__file__,
    "ext": ext.__file__,
    "version": getattr({name}, "__version__", None),
    "machine": platform.machine(),
    "python": "%d.%d" % sys.version_info[:2],
    "site": sorted({{sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}}),
    "path": sys.path,
}}))
"""


class Environment:
    """A fresh virtual environment, made with uv when available, else with venv + pip."""

    def __init__(self, python: str, where: Path) -> None:
        self.uv = uv_binary()
        if self.uv:
            run([self.uv, "venv", "--quiet", "--no-project", "--python", python, where])
        else:
            run([python, "-m", "venv", where])
        bindir = where / ("Scripts" if os.name == "nt" else "bin")
        self.python = str(bindir / ("python.exe" if os.name == "nt" else "python"))

    def install(self, *args: str) -> None:
        """Install packages; ``args`` are installer arguments and requirements."""
        if self.uv:
            run([self.uv, "pip", "install", "--quiet", "--python", self.python, *args])
        else:
            run([self.python, "-m", "pip", "install", "--quiet", *args])


def _install_package(env: Environment, args: argparse.Namespace, requirement: str) -> None:
    """Install exactly ``requirement`` (no dependencies, wheels only)."""
    common = ["--no-deps", "--only-binary", ":all:"]
    fresh = ["--refresh"] if env.uv else ["--no-cache-dir"]
    if args.dist:
        # Never a cached wheel: uv takes a flat index's wheel names as immutable, so an
        # earlier build of the same version at the same path would stand in for this one.
        uncached = ["--no-cache"] if env.uv else ["--no-cache-dir"]
        dist = Path(args.dist).resolve()
        env.install(*common, *uncached, "--no-index", "--find-links", str(dist), requirement)
        return
    for attempt in range(1, args.attempts + 1):
        try:
            env.install(*common, *fresh, "--index-url", args.index_url, requirement)
            return
        except ReleaseError:
            if attempt == args.attempts:
                raise
            warn(f"{requirement} not installable yet (attempt {attempt}/{args.attempts})")
            time.sleep(RETRY_DELAY)


def _smoke(env: Environment, project: Project, workdir: Path, args: argparse.Namespace) -> None:
    name = project.import_name
    ext = project.pyproject["tool"]["maturin"]["module-name"].split(".", 1)[1]
    detail(f"$ {env.python} -c <import {name}, {name}.{ext}; report file, version, machine>")
    smoke = [env.python, "-c", SMOKE.format(name=name, ext=ext)]
    result = run(smoke, cwd=workdir, capture=True, echo=False, env=ISOLATED)
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    site = [Path(p).resolve() for p in facts["site"]]
    for key in ("file", "ext"):
        loaded = Path(facts[key]).resolve()
        if not any(loaded.is_relative_to(s) for s in site):
            raise ReleaseError(f"{name} {key} loaded from {loaded}, not from site-packages")
    source = (project.root / "python").resolve()
    if any(p and Path(p).resolve() == source for p in facts["path"]):
        raise ReleaseError(f"{source} is on sys.path of the test environment")
    if facts["version"] != args.version:
        raise ReleaseError(f"{name}.__version__ is {facts['version']!r}, expected {args.version}")
    machine = facts["machine"]
    if args.expect_machine and machine.lower() != args.expect_machine.lower():
        raise ReleaseError(f"interpreter runs on {machine}, expected {args.expect_machine}")
    detail(f"{name}.__file__ = {facts['file']} (site-packages)")
    detail(f"{name}.__version__ = {facts['version']}; Python {facts['python']} on {machine}")


def _copy_suites(project: Project, workdir: Path) -> list[str]:
    """Copy the suites, tests/'s own files, tests/support, the README (test_readme runs its
    examples) and pyproject's pytest options out of the checkout; return the suites."""
    root, ignore = project.root, shutil.ignore_patterns("__pycache__")
    present = [s for s in SUITES if (root / s).is_dir() and any((root / s).rglob("test_*.py"))]
    if not present:
        return []
    for suite in (*present, "tests/support"):
        if (root / suite).is_dir():
            shutil.copytree(root / suite, workdir / suite, ignore=ignore)
    for helper in (p for p in (root / "tests").iterdir() if p.is_file()):
        shutil.copy2(helper, workdir / "tests" / helper.name)
    if (root / "README.md").is_file():
        shutil.copy2(root / "README.md", workdir / "README.md")
    options = project.pyproject.get("tool", {}).get("pytest", {}).get("ini_options", {})
    lines = ["[tool.pytest.ini_options]", *(f"{k} = {json.dumps(v)}" for k, v in options.items())]
    (workdir / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return present


def _run_suites(
    env: Environment, project: Project, workdir: Path, args: argparse.Namespace
) -> None:
    suites = _copy_suites(project, workdir)
    if not suites:
        detail(f"no tests in {' or '.join(SUITES)} yet: ran the import smoke test only")
        return
    step(f"pytest {' '.join(suites)} against the installed wheel (cwd {workdir})")
    given = getattr(args, "requirements", None)  # callers like the rehearsal may omit it
    locked = Path(given) if given else export_locked(project, workdir)
    env.install(*install_arguments(locked))
    pytest = [env.python, "-m", "pytest", "-p", "no:cacheprovider", *suites]
    result = run(pytest, cwd=workdir, timeout=SUITE_TIMEOUT, check=False, env=ISOLATED)
    if result.returncode == 5:
        detail("pytest collected no tests: ran the import smoke test only")
    elif result.returncode != 0:
        raise ReleaseError(f"pytest failed (exit {result.returncode})")


def _in_container(args: argparse.Namespace, project: Project) -> int:
    """Re-run this command inside an official Python container (aarch64 under QEMU for
    ``--via qemu``)."""
    docker = shutil.which("docker")
    if not docker:
        raise ReleaseError("a container run (--container, --via qemu) needs docker")
    if not args.dist:
        raise ReleaseError("a container run needs --dist (a directory inside the checkout)")
    dist = Path(args.dist).resolve().relative_to(project.root).as_posix()
    container = "debian" if args.container == "none" else args.container
    image = f"python:{args.python}-{IMAGE_SUFFIX[container]}"
    platform = ["--platform", "linux/arm64"] if args.via == "qemu" else []
    step(f"test in {image}" + (" (linux/arm64, QEMU)" if platform else " (native)"))
    # The container has no uv: the locked test requirements are exported here and mounted.
    locked_dir = Path(tempfile.mkdtemp(prefix="release-locked-"))
    locked = export_locked(project, locked_dir)
    inner = [
        "python", "-m", "release", "test-installed", "--dist", dist, "--python", "python",
        "--version", args.version, "--requirements", f"/locked/{locked.name}",
    ]  # fmt: skip
    if args.expect_machine:
        inner += ["--expect-machine", args.expect_machine]
    try:
        quiet = ["-e", "PIP_ROOT_USER_ACTION=ignore", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1"]
        run([docker, "run", "--rm", *platform, "-v", f"{project.root}:/src:ro", "-v",
             f"{locked_dir}:/locked:ro", "-w", "/src", *quiet, image, *inner],
            timeout=SUITE_TIMEOUT)  # fmt: skip
    finally:
        shutil.rmtree(locked_dir, ignore_errors=True)
    return 0


def install_and_test(args: argparse.Namespace, project: Project) -> None:
    """Install and test once (see the module docstring); raises on any failure."""
    python = find_cpython(args.python)
    if python is None:
        raise ReleaseError(f"no CPython {args.python} found on this machine")
    requirement = f"{project.dist_name}=={args.version}"
    source = args.dist or args.index_url
    with tempfile.TemporaryDirectory(prefix="release-test-") as tmp:
        workdir = Path(tmp)
        step(f"fresh environment with {python}; install {requirement} from {source}")
        env = Environment(python, workdir / "venv")
        _install_package(env, args, requirement)
        step("import smoke test")
        _smoke(env, project, workdir, args)
        _run_suites(env, project, workdir, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dist", help="directory holding the wheel(s) to choose from")
    source.add_argument("--index-url", help="simple index to install the exact version from")
    parser.add_argument("--version", help="version to install (default: Cargo.toml's)")
    parser.add_argument(
        "--python", default="{}.{}".format(*sys.version_info[:2]),
        help="CPython X.Y or an interpreter path (default: the running one)",
    )  # fmt: skip
    parser.add_argument("--expect-machine", help="fail unless platform.machine() is this")
    parser.add_argument("--via", choices=VIAS, default="native")
    parser.add_argument(
        "--container",
        choices=CONTAINERS,
        default="none",
        help="run inside python:X.Y-slim (debian) or -alpine (default: none)",
    )
    parser.add_argument("--requirements", help="locked test requirements (default: uv export)")
    parser.add_argument("--attempts", type=int, default=1,
                        help=f"index install attempts, {RETRY_DELAY}s apart")  # fmt: skip


def main(args: argparse.Namespace, project: Project) -> int:
    args.version = args.version or project.version
    if args.via == "qemu" or args.container != "none":
        return _in_container(args, project)
    install_and_test(args, project)
    print(f"ok: {project.dist_name} {args.version} passed on Python {args.python}")
    return 0
