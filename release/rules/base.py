"""What a compliance rule is, and the context every rule checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from release.contract import Contract, load_contract
from release.project import Project
from release.workflows import Workflow, load_workflow


class Context:
    """The repository files a rule reads, parsed once per compliance run."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @cached_property
    def contract(self) -> Contract:
        """The contract block of MATURIN_COMPLIANCE.md."""
        return load_contract(self.project)

    @cached_property
    def release(self) -> Workflow:
        """The release workflow named by the contract."""
        return load_workflow(self.project.workflow_path(self.contract.release_workflow))

    @cached_property
    def ci(self) -> Workflow:
        """The CI workflow named by the contract."""
        return load_workflow(self.project.workflow_path(self.contract.ci_workflow))

    @cached_property
    def docs(self) -> Workflow:
        """The documentation workflow named by the contract."""
        return load_workflow(self.project.workflow_path(self.contract.docs_workflow))

    @property
    def workflows(self) -> list[Workflow]:
        """Every workflow: release, CI and docs."""
        return [self.release, self.ci, self.docs]


@dataclass(frozen=True)
class Rule:
    """One automated rule: an id, what it enforces in plain words, and its check.

    ``check`` returns the problems found (an empty list when the rule holds).
    """

    id: str
    enforces: str
    check: Callable[[Context], list[str]]
