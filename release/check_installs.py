"""``check-installs``: every package a workflow job installs has a wheel where the job runs.

Each install of every job, on every runner and Python of its matrix (the contract's for
``fromJSON(needs.verify.outputs.X)``, ``nox --list --json``'s for ci.yml's session jobs), is
classified (``uv run``/``uv sync``, ``uvx``, ``pip install``, ``.ci/nox -s`` through
noxfile.py's ``INSTALLS``, cibuildwheel's test and build requirements); an install it cannot
classify is a finding. Offline (rule ``installs-have-wheels``) every locked package must have
a wheel in ``uv.lock`` the runner accepts; ``--online`` (the verify job) resolves each set
with ``uv pip compile --only-binary :all:`` for the runner's platform and Python.
"""

from __future__ import annotations

import argparse
import itertools
import re
import shlex
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

from release.build_settings import BUILD_CONSTRAINTS, uv_binary
from release.console import detail, finding, step
from release.contract import Contract, load_contract
from release.errors import ReleaseError
from release.matrix import matrices
from release.nox_sessions import NOXFILE, parse_noxfile, session_installs
from release.process import run
from release.project import Project
from release.suite_requirements import FILE_NAME, TEST_GROUP
from release.workflows import Job, Step, load_workflow, run_commands

#: GitHub runner label -> the most specific platform tag of its own Python environment.
RUNNERS = {
    "ubuntu-24.04": "manylinux_2_39_x86_64",
    "ubuntu-24.04-arm": "manylinux_2_39_aarch64",
    "macos-15": "macosx_15_0_arm64",
    "macos-15-intel": "macosx_15_0_x86_64",
    "windows-2022": "win_amd64",
    "windows-11-arm": "win_arm64",
}
CIBUILDWHEEL = "pypa/cibuildwheel"
#: cibuildwheel options that install Python packages in the test environment.
CIBW_INSTALLS = re.compile(r"^CIBW_(BEFORE_TEST|TEST_REQUIRES|BEFORE_BUILD)(_[A-Z]+)?$")
UV_VALUED = {
    "--group", "--only-group", "--with", "--python", "-p", "--extra", "--directory", "--project",
    "--package", "--index", "--default-index", "--index-url", "--extra-index-url", "--no-group",
}  # fmt: skip
UV_FLAGS = {
    "--locked", "--frozen", "--no-project", "--no-sync", "--isolated", "--all-groups",
    "--no-default-groups", "--no-dev", "--quiet", "-q", "--no-progress", "--exact",
    "--no-editable", "--active", "--inexact", "--no-install-project", "--all-extras",
}  # fmt: skip
PIP_VALUED = {"-r", "--requirement", "--only-binary", "--no-binary", "-c", "--constraint",
              "--index-url", "-i"}  # fmt: skip
PIP_FLAGS = {"--require-hashes", "--quiet", "-q", "--upgrade", "-U", "--user"}
#: uv subcommands that install nothing into an environment.
UV_NO_INSTALL = {"--version", "version", "export", "lock", "python", "venv", "cache", "tree"}
UNSUPPORTED = {"nox", "pipx", "poetry", "conda", "tox", "hatch", "pdm"}
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}
#: The pinned nox entry point, and the runners ci.yml gives sessions tagged ``all-os``.
NOX_ENTRY = ".ci/nox"
ALL_OS_RUNNERS = ("macos-15", "windows-2022")


class Unclassified(ReleaseError):
    """An install whose package set this module cannot tell."""


@dataclass(frozen=True)
class PackageSet:
    """What one install puts into an environment."""

    groups: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()  # --with, uvx tools, pip specs, build requirements
    project: bool = False  # the project's own dependencies

    def __bool__(self) -> bool:
        return bool(self.groups or self.requirements or self.project)

    def __or__(self, other: PackageSet) -> PackageSet:
        return PackageSet(
            tuple(dict.fromkeys(self.groups + other.groups)),
            tuple(dict.fromkeys(self.requirements + other.requirements)),
            self.project or other.project,
        )


@dataclass(frozen=True)
class Install:
    """One package set installed on one runner, platform and Python."""

    where: str
    runner: str
    platform: str  # most specific platform tag, e.g. win_arm64
    python: str  # "3.12", or "3.14t" for a free-threaded CPython
    packages: PackageSet

    def label(self) -> str:
        return f"{self.where} on {self.runner} ({self.platform}, Python {self.python})"


@dataclass
class Report:
    """Findings (failures) and the requirements the offline check could not read."""

    findings: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def _segments(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    groups = itertools.groupby(tokens, key=lambda t: t in SHELL_OPERATORS)
    return [list(g) for is_op, g in groups if not is_op]


def _options(
    tokens: list[str], valued: set[str], flags: set[str], command: str, *, interspersed: bool
) -> tuple[dict[str, list[str]], list[str]]:
    """Split options (an unknown one is :class:`Unclassified`) from positional arguments,
    which end the options unless ``interspersed`` (``uv run X ...`` runs X with the rest)."""
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    index = 0
    while index < len(tokens):
        name, _, value = tokens[index].partition("=")
        if not name.startswith("-"):
            if not interspersed:
                return options, tokens[index:]
            positional.append(tokens[index])
        elif name in valued:
            if not value:
                index += 1
                value = tokens[index] if index < len(tokens) else ""
            options.setdefault(name, []).append(value)
        elif name in flags:
            options.setdefault(name, [])
        else:
            raise Unclassified(f"unknown option {name!r} in `{command}`")
        index += 1
    return options, positional


def _uv_sync_set(options: dict[str, list[str]], default_groups: tuple[str, ...]) -> PackageSet:
    if "--no-sync" in options:
        return PackageSet(requirements=tuple(options.get("--with", ())))
    only = tuple(options.get("--only-group", ()))
    project = not only and "--no-project" not in options
    groups = only or tuple(options.get("--group", ()))
    if project and "--no-default-groups" not in options and "--no-dev" not in options:
        groups = tuple(dict.fromkeys(default_groups + groups))
    if "--all-groups" in options:
        groups = ("*",)
    return PackageSet(groups, tuple(options.get("--with", ())), project)


def _pip_set(tokens: list[str], command: str) -> PackageSet:
    options, requirements = _options(tokens, PIP_VALUED, PIP_FLAGS, command, interspersed=True)
    files = options.get("-r", []) + options.get("--requirement", [])
    if any(Path(f).name != FILE_NAME for f in files):
        raise Unclassified(f"requirements file {files} in `{command}`")
    # the only file is written by `release test-requirements`: the locked test group
    return PackageSet((TEST_GROUP,) if files else (), tuple(requirements))


def _nox_set(tokens: list[str], command: str, nox: dict[str, PackageSet] | None) -> PackageSet:
    """``.ci/nox [-s SESSION ...]``: the pinned nox, plus each named session's installs."""
    if nox is None:
        raise Unclassified(f"`{command}`: no noxfile.py INSTALLS to read")
    found = nox[""]
    for flag, name in itertools.pairwise(tokens):
        if flag in ("-s", "--session", "--sessions"):
            base = name.rsplit("-", 1)[0] if name not in nox else name
            if base not in nox:
                raise Unclassified(f"`{command}`: noxfile.py INSTALLS has no session {name!r}")
            found |= nox[base]
    return found


def classify(
    command: str,
    default_groups: tuple[str, ...] = ("dev",),
    nox: dict[str, PackageSet] | None = None,
) -> PackageSet:
    """The packages one shell command line installs (empty when it installs none)."""
    found = PackageSet()
    for tokens in _segments(command):
        while tokens and (re.match(r"^\w+=", tokens[0]) or tokens[0] in ("sudo", "nice", "env")):
            tokens = tokens[1:]
        if tokens[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"]):
            tokens = ["pip", *tokens[3:]]
        if tokens[:3] == ["uv", "tool", "run"]:
            tokens = ["uvx", *tokens[3:]]
        if not tokens:
            continue
        head = tokens[0]
        if head == NOX_ENTRY:
            found |= _nox_set(tokens, command, nox)
        elif head == "uv" and len(tokens) > 1 and tokens[1] in ("run", "sync"):
            options, rest = _options(tokens[2:], UV_VALUED, UV_FLAGS, command, interspersed=False)
            found |= _uv_sync_set(options, default_groups)
            if rest:
                found |= classify(shlex.join(rest), default_groups, nox)
        elif head == "uv" and tokens[1:3] == ["pip", "install"]:
            found |= _pip_set(tokens[3:], command)
        elif head == "uv" and (tokens[1:2] == [] or tokens[1] in UV_NO_INSTALL):
            continue  # uv --version, uv export, uv lock, ...
        elif tokens[:3] == ["uv", "pip", "compile"]:
            continue
        elif head in ("pip", "pip3") and tokens[1:2] == ["install"]:
            found |= _pip_set(tokens[2:], command)
        elif head == "uvx" and len(tokens) > 1 and not tokens[1].startswith("-"):
            if tokens[1] in UNSUPPORTED:
                raise Unclassified(f"`{command}`: what {tokens[1]} installs is not known here")
            found |= PackageSet(requirements=(tokens[1],))
        elif head in ("uv", "uvx", *UNSUPPORTED):
            raise Unclassified(f"`{command}` may install packages in a way not known here")
    return found


def _nox_cells(project: Project) -> list[dict[str, Any]]:
    """ci.yml's session cells, as its ``sessions`` job makes them from `nox --list --json`."""
    sessions, _ = parse_noxfile(project.text(NOXFILE))
    cells = []
    for session in (s for s in sessions if s.default):
        runners = ("ubuntu-24.04", *(ALL_OS_RUNNERS if "all-os" in session.tags else ()))
        cells += [{"session": session.name, "runner": r, "python": session.python} for r in runners]
    return cells


def nox_installs(project: Project) -> dict[str, PackageSet]:
    """What each nox session installs (noxfile.py's INSTALLS); "" is nox itself (.ci/nox)."""
    pin = re.search(r"nox==[\w.]+", project.text(NOX_ENTRY))
    if pin is None:
        raise Unclassified(f"{NOX_ENTRY} pins no nox version (nox==X)")
    groups = set(project.pyproject.get("dependency-groups", {})) | {"project"}
    found = {"": PackageSet(requirements=(pin[0],))}
    for name, items in session_installs(project.text(NOXFILE)).items():
        found[name] = PackageSet(
            tuple(i for i in items if i in groups and i != "project"),
            tuple(i for i in items if i not in groups),
            "project" in items,
        )
    return found


def _cells(job: Job, contract: Contract, project: Project) -> list[dict[str, Any]]:
    """Every matrix cell of ``job`` (``[{}]`` without a matrix)."""
    include_expression = str(job.matrix.get("include", ""))
    if "needs.sessions.outputs." in include_expression:
        return _nox_cells(project)
    expression = job.matrix_expression
    if expression:
        match = re.search(r"needs\.\w+\.outputs\.(\w+)", expression)
        emitted = matrices(contract)
        if match is None or match[1] not in emitted:
            raise Unclassified(f"job {job.id}: matrix {expression!r} is not a contract matrix")
        matrix: dict[str, Any] = emitted[match[1]]
    else:
        matrix = job.matrix
    include = list(matrix.get("include") or [])
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    if not axes:
        return include or [{}]
    product = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]
    return product + include


def _expand(value: Any, cell: dict[str, Any]) -> str:
    pattern = r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}"
    return re.sub(pattern, lambda m: str(cell.get(m[1], "")), str(value))


def _job_python(job: Job, cell: dict[str, Any], default: str) -> str:
    setups = ("astral-sh/setup-uv", "actions/setup-python")
    versions = [s.with_.get("python-version") for s in job.steps if s.action in setups]
    return str(cell.get("python") or _expand(next(filter(None, versions), default), cell))


def _cibuildwheel_installs(
    job: Job, step_: Step, cell: dict[str, Any], contract: Contract, project: Project
) -> list[tuple[str, str, PackageSet]]:
    """(platform tag, Python, set) for each environment cibuildwheel builds and tests in."""
    ft = contract.free_threaded
    env = {**(job.data.get("env") or {}), **(step_.data.get("env") or {})}
    target = next((t for t in ft.targets if t.id == cell.get("id")), None)
    if target is None:
        raise Unclassified(f"job {job.id}: matrix entry {cell} is no contract target")
    tests = PackageSet()
    for key, value in env.items():
        if CIBW_INSTALLS.match(str(key)) and not str(key).startswith("CIBW_TEST_REQUIRES"):
            tests |= classify(str(value))
        elif CIBW_INSTALLS.match(str(key)):
            tests |= PackageSet(requirements=tuple(str(value).split()))
    build_requires = list(project.pyproject["build-system"]["requires"])
    if any(BUILD_CONSTRAINTS in str(v) for k, v in env.items() if "ENVIRONMENT" in str(k)):
        pins = project.path(BUILD_CONSTRAINTS).read_text(encoding="utf-8").splitlines()
        build_requires += [line for line in pins if line.strip() and not line.startswith("#")]
    build = PackageSet(requirements=tuple(build_requires))
    linux = [t for t in target.platform_tags if t.startswith(("manylinux", "musllinux"))]
    platforms = linux or [RUNNERS.get(target.runner, target.runner)]
    return [
        (platform, python + "t", packages)
        for platform in platforms
        for python in ft.pythons
        for packages in (build, tests)
        if packages
    ]


def installs(project: Project) -> list[Install]:
    """Every install of every job of the workflows, on every runner and Python it runs on."""
    contract = load_contract(project)
    names = (contract.release_workflow, contract.ci_workflow, contract.docs_workflow)
    uv_settings = project.pyproject.get("tool", {}).get("uv", {})
    default_groups = tuple(uv_settings.get("default-groups", ["dev"]))
    nox = nox_installs(project) if project.path(NOXFILE).is_file() else None
    found: list[Install] = []
    for name in names:
        for job in load_workflow(project.workflow_path(name)).jobs.values():
            for cell in _cells(job, contract, project):
                runner = _expand(job.data.get("runs-on", ""), cell)
                if runner not in RUNNERS:
                    raise Unclassified(f"{name} job {job.id}: runner {runner!r} is not known")
                python = _job_python(job, cell, contract.min_python)
                for step_ in job.steps:
                    where = f"{name} {step_.label}"
                    if step_.action == CIBUILDWHEEL:
                        for platform, py, packages in _cibuildwheel_installs(
                            job, step_, cell, contract, project
                        ):
                            found.append(Install(where, runner, platform, py, packages))
                        continue
                    for command in run_commands(step_.run):
                        command = command.replace('"$SESSION"', str(cell.get("session", "")))
                        if packages := classify(command, default_groups, nox):
                            found.append(Install(where, runner, RUNNERS[runner], python, packages))
    return found


def platform_tags(platform: str) -> list[str]:
    """The platform tags an installer on ``platform`` accepts, most specific first."""
    if match := re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform):
        arch = match[2]
        legacy = ["manylinux2014"] + (["manylinux2010", "manylinux1"] if arch == "x86_64" else [])
        glibc = [f"manylinux_2_{n}_{arch}" for n in range(int(match[1]), 4, -1)]
        return glibc + [f"{name}_{arch}" for name in legacy]
    if match := re.fullmatch(r"musllinux_1_(\d+)_(\w+)", platform):
        return [f"musllinux_1_{n}_{match[2]}" for n in range(int(match[1]), -1, -1)]
    if match := re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", platform):
        return list(mac_platforms((int(match[1]), int(match[2])), match[3]))
    return [platform]


def supported_tags(python: str, platform: str) -> set[Tag]:
    """Every wheel tag CPython ``python`` ("3.12", "3.14t") installs on ``platform``."""
    version = (3, int(python.rstrip("t").split(".")[1]))
    interpreter = f"cp3{version[1]}"
    abi = interpreter + ("t" if python.endswith("t") else "")
    platforms = platform_tags(platform)
    return {
        *cpython_tags(version, [abi], platforms),
        *compatible_tags(version, interpreter, platforms),
    }


def marker_environment(python: str, platform: str) -> dict[str, str]:
    """PEP 508 marker values of CPython ``python`` on ``platform``."""
    version = python.rstrip("t")
    if platform.startswith("win"):
        system, machine = ("Windows", "ARM64" if platform.endswith("arm64") else "AMD64")
    elif platform.startswith("macosx"):
        system, machine = ("Darwin", platform.rsplit("_", 1)[1])
    else:
        system, machine = ("Linux", "aarch64" if platform.endswith("aarch64") else "x86_64")
    sys_platform = {"Windows": "win32", "Darwin": "darwin", "Linux": "linux"}[system]
    return {
        "python_version": version, "python_full_version": f"{version}.0",
        "implementation_name": "cpython", "platform_python_implementation": "CPython",
        "sys_platform": sys_platform, "platform_system": system, "platform_machine": machine,
        "os_name": "nt" if system == "Windows" else "posix", "extra": "",
    }  # fmt: skip


def uv_platform(platform: str) -> str:
    """``uv pip compile --python-platform`` for a platform tag."""
    if match := re.fullmatch(r"manylinux_(2_\d+)_(\w+)", platform):
        return f"{match[2]}-manylinux_{match[1]}"
    if match := re.fullmatch(r"musllinux_1_\d+_(\w+)", platform):
        return f"{match[1]}-unknown-linux-musl"
    if platform.startswith("macosx"):
        return "aarch64-apple-darwin" if platform.endswith("arm64") else "x86_64-apple-darwin"
    windows = {"win_amd64": "x86_64-pc-windows-msvc", "win_arm64": "aarch64-pc-windows-msvc"}
    return windows[platform]


class Lock:
    """The packages of ``uv.lock`` and the root project's dependency groups."""

    def __init__(self, text: str) -> None:
        self.packages: dict[str, list[dict[str, Any]]] = {}
        self.root: dict[str, Any] = {}
        for package in tomllib.loads(text).get("package", []):
            self.packages.setdefault(canonicalize_name(package["name"]), []).append(package)
            if {"editable", "virtual"} & set(package.get("source", {})):
                self.root = package

    def _package(self, name: str, version: str | None) -> dict[str, Any] | None:
        candidates = self.packages.get(canonicalize_name(name), [])
        chosen = [p for p in candidates if version in (None, p.get("version"))]
        return chosen[0] if chosen else None

    def closure(self, roots: list[dict[str, Any]], env: dict[str, str]) -> list[dict[str, Any]]:
        """Every locked package ``roots`` (lock dependency entries) pull in under ``env``."""
        seen: dict[str, dict[str, Any]] = {}
        queue = list(roots)
        while queue:
            dep = queue.pop()
            if "marker" in dep and not Marker(dep["marker"]).evaluate(env):
                continue
            package = self._package(dep["name"], dep.get("version"))
            if package is None or package is self.root:
                continue
            key = f"{package['name']} {package.get('version')} {','.join(dep.get('extra', []))}"
            if key in seen:
                continue
            seen[key] = package
            queue += package.get("dependencies", [])
            for extra in dep.get("extra", []):
                queue += package.get("optional-dependencies", {}).get(extra, [])
        return list({id(p): p for p in seen.values()}.values())

    def group_roots(self, groups: tuple[str, ...], project: bool) -> list[dict[str, Any]]:
        """The lock dependency entries of ``groups`` (``*``: every group) and the project."""
        dev = self.root.get("dev-dependencies", {})
        names = list(dev) if "*" in groups else groups
        missing = [g for g in names if g not in dev]
        if missing:
            raise ReleaseError(f"uv.lock has no dependency group {', '.join(missing)}")
        roots = [dep for g in names for dep in dev[g]]
        return roots + (list(self.root.get("dependencies", [])) if project else [])


def check_offline(install: Install, lock: Lock, report: Report) -> None:
    """Add a finding for each locked package of ``install`` without a usable wheel."""
    env = marker_environment(install.python, install.platform)
    accepted = supported_tags(install.python, install.platform)
    roots = lock.group_roots(install.packages.groups, install.packages.project)
    for text in install.packages.requirements:
        requirement = Requirement(text)
        if lock._package(requirement.name, None) is None:
            report.unchecked.append(f"{text} (not in uv.lock; --online resolves it)")
        else:
            roots.append({"name": requirement.name, "extra": sorted(requirement.extras)})
    for package in lock.closure(roots, env):
        if "editable" in package.get("source", {}) or "virtual" in package.get("source", {}):
            continue
        names = (
            w.get("filename") or w["url"].rsplit("/", 1)[-1] for w in package.get("wheels", [])
        )
        tags = (parse_wheel_filename(n)[3] for n in names)
        if not any(tag in accepted for wheel_tags in tags for tag in wheel_tags):
            abi = "cp" + install.python.replace(".", "")
            wanted = f"{abi.rstrip('t')}-{abi}-{install.platform}"
            report.findings.append(
                f"{install.label()}: {package['name']} {package.get('version')} has no wheel "
                f"for {wanted} in uv.lock (it would be built from source)"
            )


def check_online(install: Install, project: Project, report: Report) -> None:
    """Resolve ``install`` for its platform and Python with wheels only (``uv pip compile``)."""
    uv = uv_binary()
    if uv is None:
        raise ReleaseError("uv is needed for check-installs --online")
    packages = install.packages
    lines: list[str] = list(packages.requirements)
    if packages.groups or packages.project:
        groups = [g for g in packages.groups if g != "*"]
        selection = (
            ["--all-groups"] if "*" in packages.groups
            else [f"--{'' if packages.project else 'only-'}group={g}" for g in groups]
        )  # fmt: skip
        if packages.project:
            selection.append("--no-default-groups")
        exported = run(
            [uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-emit-project",
             "--quiet", *selection],
            cwd=project.root, capture=True, timeout=120, echo=False,
        ).stdout  # fmt: skip
        lines += [line for line in exported.splitlines() if line and not line.startswith("#")]
    with tempfile.TemporaryDirectory() as temp:
        requirements = Path(temp) / "requirements.in"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = run(
            [uv, "pip", "compile", requirements, "--quiet", "--no-header", "--only-binary",
             ":all:", "--python-platform", uv_platform(install.platform),
             "--python-version", install.python.rstrip("t"), "--output-file", Path(temp) / "out"],
            cwd=project.root, capture=True, check=False, timeout=300, echo=False,
        )  # fmt: skip
    if result.returncode != 0:
        lines = [line.strip() for line in result.stdout.splitlines()]
        cause = [line for line in lines if "because" in line.lower()] or lines[-3:]
        report.findings.append(f"{install.label()}: {' '.join(cause)}")


def check(project: Project, *, online: bool = False) -> Report:
    """Check every install; the report's findings are failures."""
    report = Report()
    try:
        found = installs(project)
    except Unclassified as exc:
        report.findings.append(f"unclassified install: {exc}")
        return report
    unique = {(i.platform, i.python, i.packages): i for i in found}
    if online:
        for install in unique.values():
            check_online(install, project, report)
        return report
    lock = Lock((project.root / "uv.lock").read_text(encoding="utf-8"))
    for install in found:
        check_offline(install, lock, report)
    counts = {u: report.unchecked.count(u) for u in report.unchecked}
    report.unchecked = [f"{u}: {n} environments" for u, n in counts.items()]
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--online", action="store_true",
                        help="resolve against the index instead of uv.lock")  # fmt: skip


def main(args: argparse.Namespace, project: Project) -> int:
    step(f"check-installs ({'online: the package index' if args.online else 'offline: uv.lock'})")
    report = check(project, online=args.online)
    for line in report.unchecked:
        detail(f"unchecked offline: {line}")
    for line in report.findings:
        finding("installs", "check-installs", line)
    if report.findings:
        return 1
    print("check-installs: every install resolves to wheels on its runner", flush=True)
    return 0
