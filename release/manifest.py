"""``manifest``: the exact list of artifact file names a release of a version consists of.

One wheel per contract target plus the sdist. The names are written as maturin 1.16 writes
them (Python tag ``cp3XY`` for the abi3 floor, compressed platform tags sorted), but
:func:`compare` matches wheels by their set of tags, so a maturin that orders a compressed
tag set differently still matches while a missing or an extra tag does not. The release
workflow's inspect job requires the downloaded artifacts to be exactly this list; the local
rehearsal, which can only build the host's wheel, uses :func:`compare_host` instead.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from release.contract import Contract, load_contract
from release.errors import ReleaseError
from release.project import Project, normalize_dist_name

VERSION_RE = re.compile(r"\d+\.\d+\.\d+")


def canonical_platform_tag(tag: str) -> str:
    """A compressed platform tag with its dot-separated parts sorted, as maturin writes it."""
    return ".".join(sorted(tag.split(".")))


def file_version(version: str) -> str:
    """The version as written in file names; releases are plain ``X.Y.Z``."""
    if not VERSION_RE.fullmatch(version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z")
    return version


def sdist_name(project: Project, version: str) -> str:
    """The sdist's file name for ``version``."""
    return f"{normalize_dist_name(project.dist_name)}-{file_version(version)}.tar.gz"


def wheel_name(project: Project, contract: Contract, version: str, platform_tag: str) -> str:
    """The wheel's file name for ``version`` and a platform tag."""
    dist = normalize_dist_name(project.dist_name)
    plat = canonical_platform_tag(platform_tag)
    return f"{dist}-{file_version(version)}-{contract.python_tag}-{contract.abi}-{plat}.whl"


def free_threaded_names(project: Project, contract: Contract, version: str) -> list[str]:
    """The free-threaded wheels: one per free-threaded Python per platform tag of each
    cibuildwheel target (``…-cp315-cp315t-win_amd64.whl``)."""
    ft = contract.free_threaded
    if ft is None:
        return []
    dist = normalize_dist_name(project.dist_name)
    return [
        f"{dist}-{file_version(version)}-{abi.removesuffix('t')}-{abi}-{tag}.whl"
        for abi in ft.abis
        for target in ft.targets
        for tag in target.platform_tags
    ]


def full_manifest(project: Project, contract: Contract, version: str) -> list[str]:
    """Every artifact of a release: one abi3 wheel per target, the free-threaded wheels,
    then the sdist."""
    names = [wheel_name(project, contract, version, t.platform_tag) for t in contract.targets]
    names += free_threaded_names(project, contract, version)
    return [*sorted(names), sdist_name(project, version)]


@dataclass(frozen=True)
class ManifestCheck:
    """The outcome of comparing a directory listing with a manifest."""

    missing: tuple[str, ...]
    unexpected: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is missing and nothing is unexpected."""
        return not self.missing and not self.unexpected


def artifact_key(file_name: str) -> tuple[object, ...]:
    """What identifies an artifact: for a wheel its name, version, build tag and the *set* of
    (python, abi, platform) tags its file name expands to (PEP 427/425, parsed by
    ``packaging``), so compressed tag sets written in another order still match; for any
    other file its exact name."""
    if file_name.endswith(".whl"):
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            name, version, build, tags = parse_wheel_filename(file_name)
        except InvalidWheelFilename:
            return ("file", file_name)
        return ("wheel", name, str(version), build, frozenset(tags))
    return ("file", file_name)


def compare(expected: list[str], present: list[str]) -> ManifestCheck:
    """Compare an exact manifest with the files present, wheels by their tag sets."""
    wanted = {artifact_key(name): name for name in expected}
    seen: set[tuple[object, ...]] = set()
    unexpected: list[str] = []
    for name in sorted(present):
        key = artifact_key(name)
        if key in wanted and key not in seen:
            seen.add(key)
        else:
            unexpected.append(name)  # not in the manifest, or a second file with its tags
    missing = sorted(name for key, name in wanted.items() if key not in seen)
    return ManifestCheck(missing=tuple(missing), unexpected=tuple(unexpected))


def is_host_wheel(project: Project, contract: Contract, version: str, file_name: str) -> bool:
    """True when ``file_name`` is this version's abi3 wheel and installs on this machine."""
    from packaging.tags import sys_tags
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import Version

    try:
        name, wheel_version, _build, tags = parse_wheel_filename(file_name)
    except InvalidWheelFilename:
        return False
    if name != canonicalize_name(project.dist_name) or wheel_version != Version(version):
        return False
    if not all(t.interpreter == contract.python_tag and t.abi == contract.abi for t in tags):
        return False
    host = set(sys_tags())
    return any(tag in host for tag in tags)


def compare_host(
    project: Project, contract: Contract, version: str, present: list[str]
) -> ManifestCheck:
    """The partial manifest of a local rehearsal: the sdist plus exactly one host wheel."""
    expected_sdist = sdist_name(project, version)
    host_wheels = [n for n in present if is_host_wheel(project, contract, version, n)]
    missing: list[str] = []
    if expected_sdist not in present:
        missing.append(expected_sdist)
    if not host_wheels:
        missing.append(
            f"{normalize_dist_name(project.dist_name)}-{file_version(version)}-"
            f"{contract.python_tag}-{contract.abi}-<host platform>.whl"
        )
    allowed = {expected_sdist, *host_wheels[:1]}
    return ManifestCheck(missing=tuple(missing), unexpected=tuple(sorted(set(present) - allowed)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``manifest``."""
    parser.add_argument("--version", help="version to list (default: Cargo.toml's)")


def main(args: argparse.Namespace, project: Project) -> int:
    """Print the expected artifact file names, one per line."""
    contract = load_contract(project)
    version = args.version or project.version
    for name in full_manifest(project, contract, version):
        print(name)
    return 0
