"""The release contract, ``release/contract.toml``, parsed into frozen dataclasses.

The TOML's comments say what each field means. What follows from it is derived here (the
abi3 floor, the free-threaded Pythons, their ABIs and cibuildwheel's selector) or by its
readers; rule ``contract`` (release/rules/contract_rule.py) checks the values.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from typing import Any

from release.errors import ReleaseError
from release.project import Project

CONTRACT = "release/contract.toml"

#: How a wheel is run: on the runner's own CPU, or emulated by QEMU (binfmt) in a container.
VIAS = ("native", "qemu")

#: Where a wheel is tested: on the runner itself, or in an official ``python:X.Y`` image,
#: ``debian`` (``-slim``, glibc) or ``alpine`` (musl).
CONTAINERS = ("none", "debian", "alpine")


def version_key(python: str) -> tuple[int, ...]:
    """``(3, 14)`` for ``"3.14"``: Python versions compared as numbers."""
    return tuple(int(part) for part in python.split("."))


@dataclass(frozen=True)
class WheelTest:
    runner: str
    machine: str  # what platform.machine() reports there
    via: str  # one of VIAS
    container: str = "none"  # one of CONTAINERS


@dataclass(frozen=True)
class Target:
    """One abi3 wheel the release builds, and where it is tested."""

    id: str
    rust_target: str
    runner: str
    platform_tag: str
    tests: tuple[WheelTest, ...]
    manylinux: str | None = None
    macos_deployment_target: str | None = None

    @property
    def os(self) -> str:
        """``linux``, ``macos`` or ``windows``, from the Rust target triple."""
        for needle, name in (("linux", "linux"), ("apple-darwin", "macos"), ("windows", "windows")):
            if needle in self.rust_target:
                return name
        raise ReleaseError(f"target {self.id}: unknown OS in {self.rust_target}")


@dataclass(frozen=True)
class FreeThreadedTarget:
    """One cibuildwheel job; it builds a wheel per free-threaded Python per platform tag."""

    id: str
    runner: str
    archs: str  # cibuildwheel's CIBW_ARCHS
    platform_tags: tuple[str, ...]


@dataclass(frozen=True)
class FreeThreaded:
    pythons: tuple[str, ...]  # the contract's Pythons from ``since`` on
    targets: tuple[FreeThreadedTarget, ...]

    @property
    def abis(self) -> tuple[str, ...]:
        """``("cp314t", "cp315t")``: the ABI tag of each Python (the Python tag drops the t)."""
        return tuple("cp" + python.replace(".", "") + "t" for python in self.pythons)

    @property
    def selector(self) -> str:
        """cibuildwheel's CIBW_BUILD for exactly these Pythons: ``cp314t-* cp315t-*``."""
        return " ".join(f"{abi}-*" for abi in self.abis)


@dataclass(frozen=True)
class Environment:
    """A GitHub deployment environment that publishes to a package index."""

    name: str
    job: str
    url: str
    upload_url: str | None = None


@dataclass(frozen=True)
class Contract:
    pythons: tuple[str, ...]
    abi: str
    maturin: str
    tag_pattern: str
    release_workflow: str
    ci_workflow: str
    docs_workflow: str
    environments: tuple[Environment, ...]
    id_token_jobs: tuple[str, ...]
    attestations_write_jobs: tuple[str, ...]
    contents_write_jobs: tuple[str, ...]
    targets: tuple[Target, ...]
    sdist_wheel: Target  # a copy of the target named in the TOML, with id "sdist-wheel"
    ci_runners: tuple[str, ...]
    free_threaded: FreeThreaded
    container_images: dict[str, str]  # maturin-action's Linux images: pinning, reason
    repair: dict[str, str]  # cibuildwheel's wheel repair per OS

    @property
    def min_python(self) -> str:
        """The oldest supported Python, which is also the abi3 floor."""
        return min(self.pythons, key=version_key)

    @property
    def python_tag(self) -> str:
        """The abi3 wheels' Python tag, e.g. ``cp312`` for 3.12+."""
        return "cp" + self.min_python.replace(".", "")

    def environment(self, name: str) -> Environment:
        return {env.name: env for env in self.environments}[name]


def _target(raw: dict[str, Any]) -> Target:
    fields: dict[str, Any] = {**raw, "tests": tuple(WheelTest(**test) for test in raw["tests"])}
    return Target(**fields)


def parse_contract(text: str) -> Contract:
    """Parse the contract; a TOML error or a missing, unknown or mistyped key is a ReleaseError."""
    try:
        raw = tomllib.loads(text)
        pythons, jobs, ft = tuple(raw.pop("pythons")), raw.pop("jobs"), raw.pop("free_threaded")
        since = version_key(ft["since"])
        ft_targets: list[dict[str, Any]] = [
            {**t, "platform_tags": tuple(t["platform_tags"])} for t in ft["targets"]
        ]
        targets = tuple(map(_target, raw.pop("targets")))
        sdist_target = {t.id: t for t in targets}[raw.pop("sdist_wheel")]
        return Contract(
            pythons=pythons,
            environments=tuple(Environment(n, **e) for n, e in raw.pop("environments").items()),
            id_token_jobs=tuple(jobs["id_token_write"]),
            attestations_write_jobs=tuple(jobs["attestations_write"]),
            contents_write_jobs=tuple(jobs["contents_write"]),
            targets=targets,
            sdist_wheel=dataclasses.replace(sdist_target, id="sdist-wheel"),
            ci_runners=tuple(raw.pop("ci")["runners"]),
            free_threaded=FreeThreaded(
                pythons=tuple(p for p in pythons if version_key(p) >= since),
                targets=tuple(FreeThreadedTarget(**t) for t in ft_targets),
            ),
            # What is left (the plain strings, container_images, repair) maps one to one;
            # the arguments are evaluated in order, so the tables popped above are gone.
            **raw,
        )
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseError(f"{CONTRACT}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReleaseError(f"{CONTRACT}: missing or malformed {type(exc).__name__}: {exc}") from exc


def load_contract(project: Project) -> Contract:
    return parse_contract(project.text(CONTRACT))
