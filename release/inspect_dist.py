"""``inspect DIST_DIR``: every artifact check a release makes before anything is signed.

Checkers, each reported as one line per finding (``FAIL <checker> <file>: <message>``):

* ``manifest``: the directory holds exactly the expected artifact names (``release
  manifest``); ``--host-only`` accepts the sdist plus this machine's wheel instead, for the
  local rehearsal;
* ``twine``: ``twine check --strict`` on every file;
* ``check-wheel-contents``: on every wheel, with the expected top-level package;
* ``abi3audit``: ``abi3audit --strict`` on every wheel;
* ``auditwheel``: ``auditwheel show`` on every Linux wheel; the glibc version the wheel
  needs must not exceed the manylinux level its tag claims;
* ``metadata``: name, version, Requires-Python and wheel tags inside each wheel match the
  project; the sdist carries Cargo.lock so ``--locked`` builds from it work.

``--manifest-only`` runs just the manifest check, needing only ``packaging`` (the
publish jobs run it right before uploading).
"""

from __future__ import annotations

import argparse
import email.parser
import json
import re
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


def _tool(module: str, *args: str) -> tuple[int, str]:
    result = run(
        [sys.executable, "-m", module, *args],
        capture=True,
        check=False,
        echo=False,
        env={"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"},
    )
    return result.returncode, result.stdout or ""


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


def check_twine(files: list[Path]) -> list[Finding]:
    """``twine check --strict`` on all files at once."""
    code, out = _tool("twine", "check", "--strict", *map(str, files))
    if code == 0:
        return []
    return [Finding(f.name, "twine", _lines_about(out, f.name)) for f in files if f.name in out]


def _lines_about(output: str, name: str) -> str:
    text = " ".join(line.strip() for line in output.splitlines() if line.strip())
    start = text.find(name)
    return text[start + len(name) : start + len(name) + 300].strip(" :") or "failed"


def check_wheel_contents(wheel: Path, toplevel: str) -> list[Finding]:
    """``check-wheel-contents`` with the expected top-level package."""
    code, out = _tool("check_wheel_contents", "--toplevel", toplevel, str(wheel))
    if code == 0:
        return []
    problems = [ln.split(":", 1)[-1].strip() for ln in out.splitlines() if re.search(r"W\d{3}", ln)]
    return [Finding(wheel.name, "check-wheel-contents", p) for p in problems or [out.strip()]]


def check_abi3audit(wheel: Path) -> list[Finding]:
    """``abi3audit --strict`` (symbols beyond the abi3 floor, non-abi3 extensions)."""
    code, out = _tool("abi3audit", "--strict", "--report", str(wheel))
    if code == 0:
        return []
    return [Finding(wheel.name, "abi3audit", " ".join(out.split())[:400] or f"exit {code}")]


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
    code, out = _tool("auditwheel", "show", "--json", str(wheel))
    if code != 0:
        return [Finding(wheel.name, "auditwheel", " ".join(out.split())[:400])]
    report = json.loads(out[out.index("{") :])
    needed = _manylinux(report.get("overall_tag", ""))
    if needed is None:
        return [
            Finding(
                wheel.name, "auditwheel", f"not manylinux/musllinux: {report.get('overall_tag')}"
            )
        ]
    claimed = [
        level
        for tag in wheel.name.removesuffix(".whl").split("-")[-1].split(".")
        if (level := _manylinux(tag)) and level[0] == needed[0]
    ]
    if not claimed:
        return [Finding(wheel.name, "auditwheel", f"Linux wheel without a {needed[0]} tag")]
    lowest = min(claimed)
    if lowest < needed:
        return [
            Finding(
                wheel.name,
                "auditwheel",
                f"claims {lowest[0]}_{lowest[1]}_{lowest[2]} but needs {report.get('overall_tag')}",
            )
        ]
    return []


def _free_threaded_abi(wheel_name: str, contract: Contract) -> str | None:
    """The ABI tag (``cp314t``, ``cp315t``) of one of the contract's free-threaded wheels,
    or None for any other file."""
    ft = contract.free_threaded
    abis = ft.abis if ft is not None else ()
    return next((a for a in abis if f"-{a.removesuffix('t')}-{a}-" in wheel_name), None)


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def check_wheel_metadata(
    wheel: Path, project: Project, contract: Contract, version: str
) -> list[Finding]:
    """Name, version, Requires-Python, tags and the package files inside a wheel."""
    found: list[str] = []
    dist = normalize_dist_name(project.dist_name)
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        try:
            meta = _metadata(archive.read(f"{info}/METADATA").decode())
            wheel_file = _metadata(archive.read(f"{info}/WHEEL").decode())
        except KeyError as exc:
            return [Finding(wheel.name, "metadata", f"missing {exc.args[0]}")]
    expected_requires = f">={contract.min_python}"
    if meta.get("Name") != project.dist_name:
        found.append(f"Name is {meta.get('Name')!r}, expected {project.dist_name!r}")
    if meta.get("Version") != version:
        found.append(f"Version is {meta.get('Version')!r}, expected {version!r}")
    if meta.get("Requires-Python") != expected_requires:
        found.append(
            f"Requires-Python is {meta.get('Requires-Python')!r}, expected {expected_requires!r}"
        )
    python, abi, extension = contract.python_tag, contract.abi, r"abi3\.so|pyd"
    ft_abi = _free_threaded_abi(wheel.name, contract)
    if ft_abi is not None:
        python, abi = ft_abi.removesuffix("t"), ft_abi
        extension = rf"cpython-{ft_abi.removeprefix('cp')}-[\w-]+\.so|{ft_abi}-[\w]+\.pyd"
    for tag in wheel_file.get_all("Tag") or []:
        if not tag.startswith(f"{python}-{abi}-"):
            found.append(f"WHEEL tag {tag} is not {python}-{abi}")
    generator = f"maturin ({contract.maturin})"
    if wheel_file.get("Generator") != generator:
        found.append(f"WHEEL Generator is {wheel_file.get('Generator')!r}, expected {generator!r}")
    # No repair tool bundled a library: the extension links only system libraries
    # (delvewheel is off on Windows; auditwheel/delocate would add a .libs/.dylibs dir).
    bundled = sorted(n for n in names if re.search(r"\.libs/|\.dylibs/|\.dll$", n))
    if bundled:
        found.append(f"bundled libraries (a repair tool vendored them): {', '.join(bundled)}")
    package = project.import_name
    for required in (f"{package}/__init__.py", f"{package}/py.typed"):
        if required not in names:
            found.append(f"missing {required}")
    if not any(re.fullmatch(rf"{package}/_\w+\.({extension})", n) for n in names):
        found.append(f"no {abi} extension module under {package}/")
    return [Finding(wheel.name, "metadata", message) for message in found]


def check_sdist(sdist: Path, project: Project, version: str) -> list[Finding]:
    """The sdist has PKG-INFO for the version, and what a ``--locked`` build needs."""
    found: list[str] = []
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        top = archive.getnames()[0].split("/")[0]
        for required in ("Cargo.toml", "Cargo.lock", "pyproject.toml", "PKG-INFO", "src/lib.rs"):
            if required not in names:
                found.append(f"missing {required}")
        if "PKG-INFO" in names:
            member = archive.extractfile(f"{top}/PKG-INFO")
            meta = _metadata(member.read().decode() if member else "")
            if meta.get("Version") != version:
                found.append(f"PKG-INFO Version is {meta.get('Version')!r}, expected {version}")
    return [Finding(sdist.name, "metadata", message) for message in found]


def inspect_directory(
    project: Project,
    dist: Path,
    *,
    version: str,
    host_only: bool = False,
    manifest_only: bool = False,
    manifest: bool = True,
) -> list[Finding]:
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
    findings += check_twine(files)
    for wheel in wheels:
        step(f"wheel checks: {wheel.name}")
        findings += check_wheel_contents(wheel, project.import_name)
        if _free_threaded_abi(wheel.name, contract) is None:
            findings += check_abi3audit(wheel)  # a free-threaded wheel is not abi3
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
    """Arguments of ``inspect``."""
    parser.add_argument("dist", type=Path, metavar="DIST_DIR")
    parser.add_argument("--version", help="expected version (default: Cargo.toml's)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--host-only", action="store_true", help="expect the sdist and this machine's wheel only"
    )
    mode.add_argument(
        "--manifest-only", action="store_true", help="only compare names with the manifest"
    )


def main(args: argparse.Namespace, project: Project) -> int:
    """Run ``inspect``."""
    if not args.dist.is_dir():
        print(f"error: {args.dist} is not a directory")
        return 2
    findings = inspect_directory(
        project,
        args.dist,
        version=args.version or project.version,
        host_only=args.host_only,
        manifest_only=args.manifest_only,
    )
    return report(findings)
