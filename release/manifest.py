"""``manifest``: the exact artifact file names of a release of a version.

One wheel per contract target, the free-threaded wheels, then the sdist, named as maturin
writes them; :func:`compare` matches wheels by their tag *sets*. The inspect job requires
exactly this list; the local rehearsal, which builds only the host's wheel,
:func:`compare_host`.
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
    """The version as written in file names (releases are plain ``X.Y.Z``)."""
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
        return not self.missing and not self.unexpected


def artifact_key(file_name: str) -> tuple[object, ...]:
    """A wheel's name, version, build and *set* of tags (so a compressed tag set in another
    order still matches); any other file's exact name."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, version, build, tags = parse_wheel_filename(file_name)
    except InvalidWheelFilename:  # not a wheel
        return ("file", file_name)
    return ("wheel", name, str(version), build, frozenset(tags))


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
    ours = name == canonicalize_name(project.dist_name) and wheel_version == Version(version)
    abi3 = all(t.interpreter == contract.python_tag and t.abi == contract.abi for t in tags)
    return ours and abi3 and not tags.isdisjoint(sys_tags())


def compare_host(
    project: Project, contract: Contract, version: str, present: list[str]
) -> ManifestCheck:
    """The partial manifest of a local rehearsal: the sdist plus exactly one host wheel."""
    sdist = sdist_name(project, version)
    host_wheels = [n for n in present if is_host_wheel(project, contract, version, n)]
    host = wheel_name(project, contract, version, "<host platform>")
    wanted = {sdist: sdist in present, host: bool(host_wheels)}
    allowed = {sdist, *host_wheels[:1]}
    missing = tuple(name for name, found in wanted.items() if not found)
    return ManifestCheck(missing=missing, unexpected=tuple(sorted(set(present) - allowed)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", help="version to list (default: Cargo.toml's)")


def main(args: argparse.Namespace, project: Project) -> int:
    """Print the expected artifact file names, one per line."""
    print(
        *full_manifest(project, load_contract(project), args.version or project.version), sep="\n"
    )
    return 0
