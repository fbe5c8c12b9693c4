"""The release contract: the hand-edited block at the top of MATURIN_COMPLIANCE.md.

It states what a release promises (Python versions, ABI, targets with their runners and
manylinux levels, environments, workflow file names). Everything else in that document is
generated, and the compliance rules check the workflows and package metadata against it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from release.errors import ReleaseError
from release.project import COMPLIANCE_DOC, Project

BEGIN = "<!-- contract:begin (hand-edited; everything outside this block is generated) -->"
END = "<!-- contract:end -->"


#: How a wheel is run: on the runner's own CPU, or emulated by QEMU (binfmt) in a container.
VIAS = ("native", "qemu")

#: Containers a test may run in: none (the runner itself), or an official ``python:X.Y``
#: image: ``debian`` (``-slim``, glibc) or ``alpine`` (musl).
CONTAINERS = ("none", "debian", "alpine")


@dataclass(frozen=True)
class WheelTest:
    """One place a target's wheel is tested: a runner, the CPU it reports, how, and in
    which container (QEMU runs always use one)."""

    runner: str
    machine: str
    via: str  # one of VIAS
    container: str = "none"  # one of CONTAINERS


@dataclass(frozen=True)
class Target:
    """One wheel the release builds."""

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
        if "linux" in self.rust_target:
            return "linux"
        if "apple-darwin" in self.rust_target:
            return "macos"
        if "windows" in self.rust_target:
            return "windows"
        raise ReleaseError(f"target {self.id}: unknown OS in {self.rust_target}")


@dataclass(frozen=True)
class FreeThreadedTarget:
    """One cibuildwheel job building free-threaded wheels (one per platform tag it lists)."""

    id: str
    runner: str
    archs: str  # cibuildwheel's CIBW_ARCHS
    platform_tags: tuple[str, ...]


@dataclass(frozen=True)
class FreeThreaded:
    """Version-specific wheels for free-threaded CPythons (abi3 does not cover them), built
    and tested by cibuildwheel: one wheel per Python per platform tag."""

    pythons: tuple[str, ...]  # e.g. ("3.14", "3.15")
    build: str  # cibuildwheel's CIBW_BUILD, e.g. "cp314t-* cp315t-*"
    targets: tuple[FreeThreadedTarget, ...]

    @property
    def abis(self) -> tuple[str, ...]:
        """``("cp314t", "cp315t")``: the free-threaded ABI tag of each Python."""
        return tuple(free_threaded_abi(python) for python in self.pythons)

    @property
    def selector(self) -> str:
        """The CIBW_BUILD value selecting exactly these Pythons: ``cp314t-* cp315t-*``."""
        return " ".join(f"{abi}-*" for abi in self.abis)


def free_threaded_abi(python: str) -> str:
    """``cp314t`` for ``3.14``: the ABI tag (the Python tag is the same without the ``t``)."""
    return "cp" + python.replace(".", "") + "t"


@dataclass(frozen=True)
class Environment:
    """A GitHub deployment environment that publishes to a package index."""

    name: str
    job: str
    url: str
    upload_url: str | None


@dataclass(frozen=True)
class Contract:
    """The parsed contract block."""

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
    sdist_wheel: Target
    ci_runners: tuple[str, ...]
    free_threaded: FreeThreaded | None = None
    #: ``pinning`` ("tag" or "digest") and ``reason`` of maturin-action's Linux images.
    container_images: tuple[tuple[str, str], ...] = ()
    #: cibuildwheel's wheel repair per OS ("off" where the contract turns it off).
    repair: tuple[tuple[str, str], ...] = ()

    @property
    def min_python(self) -> str:
        """The oldest supported Python, which is also the abi3 floor."""
        return min(self.pythons, key=lambda v: tuple(int(p) for p in v.split(".")))

    @property
    def python_tag(self) -> str:
        """The wheel's Python tag, e.g. ``cp312`` for an abi3 wheel built for 3.12+."""
        return "cp" + self.min_python.replace(".", "")

    def environment(self, name: str) -> Environment:
        """The environment called ``name``."""
        for env in self.environments:
            if env.name == name:
                return env
        raise ReleaseError(f"contract names no environment {name!r}")


def contract_text(doc: str) -> str:
    """The TOML between the contract markers (without the code fence)."""
    try:
        start = doc.index(BEGIN) + len(BEGIN)
        end = doc.index(END, start)
    except ValueError as exc:
        raise ReleaseError(f"{COMPLIANCE_DOC}: contract markers not found") from exc
    lines = [line for line in doc[start:end].strip().splitlines() if not line.startswith("```")]
    return "\n".join(lines) + "\n"


def _require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if not isinstance(value, kind):
        raise ReleaseError(f"contract: {where}{key} must be a {kind.__name__}")
    return value


def _target(raw: dict[str, Any], where: str) -> Target:
    tests = tuple(
        WheelTest(
            runner=_require(t, "runner", str, f"{where}tests."),
            machine=_require(t, "machine", str, f"{where}tests."),
            via=_require(t, "via", str, f"{where}tests."),
            container=str(t.get("container", "none")),
        )
        for t in _require(raw, "tests", list, where)
    )
    for test in tests:
        if test.via not in VIAS:
            raise ReleaseError(f"contract: {where}tests.via must be one of {VIAS}")
        if test.container not in CONTAINERS:
            raise ReleaseError(f"contract: {where}tests.container must be one of {CONTAINERS}")
        if test.via == "qemu" and test.container == "none":
            raise ReleaseError(f"contract: {where}tests: a QEMU run needs a container")
    return Target(
        id=_require(raw, "id", str, where),
        rust_target=_require(raw, "rust_target", str, where),
        runner=_require(raw, "runner", str, where),
        platform_tag=_require(raw, "platform_tag", str, where),
        tests=tests,
        manylinux=raw.get("manylinux"),
        macos_deployment_target=raw.get("macos_deployment_target"),
    )


def _free_threaded(raw: dict[str, Any] | None) -> FreeThreaded | None:
    if raw is None:
        return None
    where = "free_threaded."
    targets = tuple(
        FreeThreadedTarget(
            id=_require(t, "id", str, f"{where}targets[{i}]."),
            runner=_require(t, "runner", str, f"{where}targets[{i}]."),
            archs=_require(t, "archs", str, f"{where}targets[{i}]."),
            platform_tags=tuple(_require(t, "platform_tags", list, f"{where}targets[{i}].")),
        )
        for i, t in enumerate(_require(raw, "targets", list, where))
    )
    return FreeThreaded(
        pythons=tuple(_require(raw, "pythons", list, where)),
        build=_require(raw, "build", str, where),
        targets=targets,
    )


def parse_contract(doc: str) -> Contract:
    """Parse the contract block of the compliance document's text."""
    try:
        raw = tomllib.loads(contract_text(doc))
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseError(f"contract: {exc}") from exc
    envs = _require(raw, "environments", dict, "")
    jobs = _require(raw, "jobs", dict, "")
    return Contract(
        pythons=tuple(_require(raw, "pythons", list, "")),
        abi=_require(raw, "abi", str, ""),
        maturin=_require(raw, "maturin", str, ""),
        tag_pattern=_require(raw, "tag_pattern", str, ""),
        release_workflow=_require(raw, "release_workflow", str, ""),
        ci_workflow=_require(raw, "ci_workflow", str, ""),
        docs_workflow=_require(raw, "docs_workflow", str, ""),
        environments=tuple(
            Environment(
                name=name,
                job=_require(env, "job", str, f"environments.{name}."),
                url=_require(env, "url", str, f"environments.{name}."),
                upload_url=env.get("upload_url"),
            )
            for name, env in envs.items()
        ),
        id_token_jobs=tuple(_require(jobs, "id_token_write", list, "jobs.")),
        attestations_write_jobs=tuple(_require(jobs, "attestations_write", list, "jobs.")),
        contents_write_jobs=tuple(_require(jobs, "contents_write", list, "jobs.")),
        targets=tuple(
            _target(t, f"targets[{i}].") for i, t in enumerate(_require(raw, "targets", list, ""))
        ),
        sdist_wheel=_target(_require(raw, "sdist_wheel", dict, ""), "sdist_wheel."),
        ci_runners=tuple(_require(_require(raw, "ci", dict, ""), "runners", list, "ci.")),
        free_threaded=_free_threaded(raw.get("free_threaded")),
        container_images=tuple(dict(raw.get("container_images") or {}).items()),
        repair=tuple(dict(raw.get("repair") or {}).items()),
    )


def load_contract(project: Project) -> Contract:
    """Read and parse the contract of ``project``."""
    return parse_contract(project.text(COMPLIANCE_DOC))
