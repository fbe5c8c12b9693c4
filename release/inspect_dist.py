"""``inspect DIST_DIR``: every artifact check a release makes before anything is signed.

One line per finding (``FAIL <checker> <file>: <message>``) from: ``manifest`` (exactly the
release's file names; ``--host-only``: the sdist and this machine's wheel), ``twine check
--strict``, ``check-wheel-contents``, ``abi3audit --strict``, ``auditwheel show`` (the glibc
or musl a Linux wheel needs is within the level its tag claims) and ``metadata`` (name,
version, Requires-Python, tags, generator, package files; the sdist carries Cargo.lock).
``--manifest-only`` (the publish jobs) needs only ``packaging``.
"""

from __future__ import annotations

import argparse
import email.parser
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from release.console import detail, finding, step
from release.contract import Contract, load_contract
from release.process import run
from release.project import Project, normalize_dist_name


@dataclass(frozen=True)
class Finding:
    """One problem with one artifact."""

    subject: str
    checker: str
    message: str


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    return run(
        [sys.executable, "-m", module, *args], capture=True, check=False, echo=False, env=env
    )


def _tool(subject: str, checker: str, module: str, *args: str) -> list[Finding]:
    """Run ``python -m module args``; a non-zero exit is one finding with its squashed output."""
    result = _run(module, *args)
    if result.returncode == 0:
        return []
    output = " ".join((result.stdout or "").split())[:400]
    return [Finding(subject, checker, output or f"exit {result.returncode}")]


def check_manifest(
    project: Project, contract: Contract, dist: Path, version: str, host_only: bool
) -> list[Finding]:
    """The manifest checker."""
    from release import manifest

    present = sorted(p.name for p in dist.iterdir() if p.is_file())
    if host_only:
        result = manifest.compare_host(project, contract, version, present)
    else:
        result = manifest.compare(manifest.full_manifest(project, contract, version), present)
    return [Finding(n, "manifest", "expected but missing") for n in result.missing] + [
        Finding(n, "manifest", "not in the manifest") for n in result.unexpected
    ]


def _manylinux(tag: str) -> tuple[str, int, int] | None:
    """(libc family, major, minor) of a manylinux (glibc) or musllinux (musl) tag."""
    match = re.match(r"(manylinux|musllinux)_(\d+)_(\d+)_", tag)
    if match:
        return match.group(1), int(match.group(2)), int(match.group(3))
    legacy = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
    level = legacy.get(tag.split("_")[0])
    return ("manylinux", *level) if level else None


def check_auditwheel(wheel: Path) -> list[Finding]:
    """``auditwheel show``: the needed glibc (musl) must not exceed the claimed manylinux
    (musllinux) level."""
    shown = _run("auditwheel", "show", "--json", str(wheel))
    if shown.returncode != 0:
        return [Finding(wheel.name, "auditwheel", " ".join(shown.stdout.split())[:400])]
    report = json.loads(shown.stdout[shown.stdout.index("{") :])
    overall = report.get("overall_tag", "")
    needed = _manylinux(overall)
    tags = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    claimed = [level for t in tags if (level := _manylinux(t)) and needed and level[0] == needed[0]]
    if needed is None:
        problem = f"not manylinux/musllinux: {overall}"
    elif not claimed:
        problem = f"Linux wheel without a {needed[0]} tag"
    elif (lowest := min(claimed)) < needed:
        problem = f"claims {lowest[0]}_{lowest[1]}_{lowest[2]} but needs {overall}"
    else:
        return []
    return [Finding(wheel.name, "auditwheel", problem)]


def _free_threaded_abi(wheel_name: str, contract: Contract) -> str | None:
    """The ABI tag (``cp314t``, ``cp315t``) of one of the contract's free-threaded wheels,
    or None for any other file."""
    abis = contract.free_threaded.abis
    return next((a for a in abis if f"-{a.removesuffix('t')}-{a}-" in wheel_name), None)


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def check_wheel_metadata(
    wheel: Path, project: Project, contract: Contract, version: str
) -> list[Finding]:
    """Name, version, Requires-Python, tags and the package files inside a wheel."""
    info = f"{normalize_dist_name(project.dist_name)}-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        try:
            meta = _metadata(archive.read(f"{info}/METADATA").decode())
            wheel_file = _metadata(archive.read(f"{info}/WHEEL").decode())
        except KeyError as exc:
            return [Finding(wheel.name, "metadata", f"missing {exc.args[0]}")]
    expected = [
        ("Name", meta.get("Name"), project.dist_name), ("Version", meta.get("Version"), version),
        ("Requires-Python", meta.get("Requires-Python"), f">={contract.min_python}"),
        ("WHEEL Generator", wheel_file.get("Generator"), f"maturin ({contract.maturin})"),
    ]  # fmt: skip
    found = [f"{key} is {got!r}, expected {want!r}" for key, got, want in expected if got != want]
    python, abi, extension = contract.python_tag, contract.abi, r"abi3\.so|pyd"
    ft_abi = _free_threaded_abi(wheel.name, contract)
    if ft_abi is not None:
        python, abi = ft_abi.removesuffix("t"), ft_abi
        extension = rf"cpython-{ft_abi.removeprefix('cp')}-[\w-]+\.so|{ft_abi}-[\w]+\.pyd"
    for tag in wheel_file.get_all("Tag") or []:
        if not tag.startswith(f"{python}-{abi}-"):
            found.append(f"WHEEL tag {tag} is not {python}-{abi}")
    # No repair tool bundled a library: the extension links only system libraries
    # (delvewheel is off on Windows; auditwheel/delocate would add a .libs/.dylibs dir).
    bundled = sorted(n for n in names if re.search(r"\.libs/|\.dylibs/|\.dll$", n))
    if bundled:
        found.append(f"bundled libraries (a repair tool vendored them): {', '.join(bundled)}")
    package = project.import_name
    found += [
        f"missing {r}" for r in (f"{package}/__init__.py", f"{package}/py.typed") if r not in names
    ]
    if not any(re.fullmatch(rf"{package}/_\w+\.({extension})", n) for n in names):
        found.append(f"no {abi} extension module under {package}/")
    return [Finding(wheel.name, "metadata", message) for message in found]


def check_sdist(sdist: Path, project: Project, version: str) -> list[Finding]:
    """The sdist has PKG-INFO for the version, and what a ``--locked`` build needs."""
    found: list[str] = []
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        top = archive.getnames()[0].split("/")[0]
        required = ("Cargo.toml", "Cargo.lock", "pyproject.toml", "PKG-INFO", "src/lib.rs")
        found += [f"missing {r}" for r in required if r not in names]
        if "PKG-INFO" in names:
            member = archive.extractfile(f"{top}/PKG-INFO")
            meta = _metadata(member.read().decode() if member else "")
            if meta.get("Version") != version:
                found.append(f"PKG-INFO Version is {meta.get('Version')!r}, expected {version}")
    return [Finding(sdist.name, "metadata", message) for message in found]


def inspect_directory(
    project: Project, dist: Path, *, version: str, host_only: bool = False,
    manifest_only: bool = False, manifest: bool = True,
) -> list[Finding]:  # fmt: skip
    """Run the checkers on ``dist`` and return every finding."""
    contract = load_contract(project)
    findings: list[Finding] = []
    if manifest:
        step(f"manifest ({'host wheel + sdist' if host_only else 'exact, every target'})")
        findings += check_manifest(project, contract, dist, version, host_only)
    if manifest_only:
        return findings
    files = sorted(p for p in dist.iterdir() if p.is_file())
    wheels = [f for f in files if f.suffix == ".whl"]
    sdists = [f for f in files if f.name.endswith(".tar.gz")]
    step(f"twine check --strict ({len(files)} files)")
    findings += _tool(dist.name, "twine", "twine", "check", "--strict", *map(str, files))
    for wheel in wheels:
        step(f"wheel checks: {wheel.name}")
        toplevel = ["--toplevel", project.import_name, str(wheel)]
        findings += _tool(wheel.name, "check-wheel-contents", "check_wheel_contents", *toplevel)
        if _free_threaded_abi(wheel.name, contract) is None:  # a free-threaded wheel is not abi3
            audit = ["--strict", "--report", str(wheel)]
            findings += _tool(wheel.name, "abi3audit", "abi3audit", *audit)
        if "linux" in wheel.name:
            findings += check_auditwheel(wheel)
        findings += check_wheel_metadata(wheel, project, contract, version)
    for sdist in sdists:
        step(f"sdist checks: {sdist.name}")
        findings += check_sdist(sdist, project, version)
    return findings


def report(findings: list[Finding]) -> int:
    """Print the findings, one line each, and return the exit status."""
    for item in findings:
        finding(item.subject, item.checker, item.message)
    if findings:
        print(f"{len(findings)} finding(s)")
        return 1
    detail("no findings")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dist", type=Path, metavar="DIST_DIR")
    parser.add_argument("--version", help="expected version (default: Cargo.toml's)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--host-only", action="store_true", help="the sdist + this host's wheel")
    mode.add_argument("--manifest-only", action="store_true", help="only the manifest check")


def main(args: argparse.Namespace, project: Project) -> int:
    if not args.dist.is_dir():
        print(f"error: {args.dist} is not a directory")
        return 2
    version = args.version or project.version
    return report(inspect_directory(project, args.dist, version=version, host_only=args.host_only,
                                    manifest_only=args.manifest_only))  # fmt: skip
