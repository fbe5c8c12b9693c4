"""What a compliance rule is, the context every rule checks, and what rules share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from types import FunctionType

from release.contract import Contract, load_contract
from release.project import Project
from release.workflows import Job, Step, Workflow, load_workflow

MATURIN_ACTION = "PyO3/maturin-action"
CIBUILDWHEEL = "pypa/cibuildwheel"
UPLOAD = "actions/upload-artifact"
DOWNLOAD = "actions/download-artifact"
PUBLISH = "pypa/gh-action-pypi-publish"
QEMU_ACTION = "docker/setup-qemu-action"
CIBW_ENVIRONMENTS = ("CIBW_ENVIRONMENT_LINUX", "CIBW_ENVIRONMENT_MACOS", "CIBW_ENVIRONMENT_WINDOWS")
TAG_CONDITION = "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"


class Context:
    """The repository files a rule reads, parsed once per compliance run: the contract and
    the release, CI and docs workflows it names."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @cached_property
    def contract(self) -> Contract:
        return load_contract(self.project)

    def _workflow(self, name: str) -> Workflow:
        return load_workflow(self.project.workflow_path(name))

    @cached_property
    def release(self) -> Workflow:
        return self._workflow(self.contract.release_workflow)

    @cached_property
    def ci(self) -> Workflow:
        return self._workflow(self.contract.ci_workflow)

    @cached_property
    def docs(self) -> Workflow:
        return self._workflow(self.contract.docs_workflow)

    @property
    def workflows(self) -> list[Workflow]:
        return [self.release, self.ci, self.docs]

    def steps(self, action: str | None = None) -> list[tuple[Workflow, Step]]:
        """Every step of the three workflows (that uses ``action``), with its workflow."""
        return [
            (workflow, step)
            for workflow in self.workflows
            for job in workflow.jobs.values()
            for step in (job.steps if action is None else job.steps_using(action))
        ]


@dataclass(frozen=True)
class Rule:
    """One automated rule: an id, what it enforces in plain words, and its check, which
    returns the problems found (empty when the rule holds)."""

    id: str
    enforces: str
    check: Callable[[Context], list[str]]


def rules(*checks: FunctionType) -> list[Rule]:
    """Rules named after their checks (``locked_build`` is ``locked-build``), each enforcing
    what its check's docstring says."""
    return [Rule(c.__name__.replace("_", "-"), " ".join((c.__doc__ or "").split()), c)
            for c in checks]  # fmt: skip


def runs(job: Job, needle: str) -> bool:
    """Whether a ``run:`` step of ``job`` contains ``needle``."""
    return any(needle in step.run for step in job.steps)


def unrun(job: Job, *commands: str) -> list[str]:
    """A problem for each command no ``run:`` step of ``job`` contains."""
    return [f"{job.id} job does not run `{c}`" for c in commands if not runs(job, c)]


def unneeded(job: Job, *jobs: str) -> list[str]:
    """A problem for each job ``job`` does not need."""
    return [f"{job.id} job does not need {j}" for j in jobs if j not in job.needs]


def uploads(job: Job) -> list[str]:
    """The artifact names ``job`` uploads."""
    return [str(s.with_.get("name", "")) for s in job.steps_using(UPLOAD)]


def failing(*checks: tuple[object, str]) -> list[str]:
    """The message of each (condition, message) whose condition is false."""
    return [message for holds, message in checks if not holds]
