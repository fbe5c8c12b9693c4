"""GitHub workflow files, parsed for the compliance rules (PyYAML reads ``on:`` as ``True``:
:attr:`Workflow.triggers` hides that)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from release.errors import ReleaseError


@dataclass(frozen=True)
class Step:
    """One step of a job; a missing key reads as empty."""

    job: str
    index: int
    data: dict[str, Any]

    @property
    def uses(self) -> str:
        return str(self.data.get("uses", ""))

    @property
    def action(self) -> str:
        """The action without its ref, e.g. ``actions/checkout``."""
        return self.uses.split("@", 1)[0]

    @property
    def with_(self) -> dict[str, Any]:
        return dict(self.data.get("with") or {})

    @property
    def run(self) -> str:
        return str(self.data.get("run", ""))

    @property
    def condition(self) -> str:
        return str(self.data.get("if", ""))

    @property
    def label(self) -> str:
        """How findings name this step."""
        name = self.data.get("name") or self.uses or self.run.splitlines()[0][:60]
        return f"job {self.job} step {self.index + 1} ({name})"


@dataclass(frozen=True)
class Job:
    """One job of a workflow; a missing key reads as empty."""

    id: str
    data: dict[str, Any]

    @property
    def steps(self) -> list[Step]:
        return [Step(self.id, i, s) for i, s in enumerate(self.data.get("steps") or [])]

    @property
    def permissions(self) -> Any:
        return self.data.get("permissions")

    @property
    def needs(self) -> list[str]:
        needs = self.data.get("needs") or []
        return [needs] if isinstance(needs, str) else list(needs)

    @property
    def condition(self) -> str:
        return str(self.data.get("if", ""))

    @property
    def matrix(self) -> dict[str, Any]:
        """``strategy.matrix`` when written out, else empty."""
        matrix = (self.data.get("strategy") or {}).get("matrix")
        return dict(matrix) if isinstance(matrix, dict) else {}

    @property
    def matrix_expression(self) -> str:
        """``strategy.matrix`` when it is one expression (``${{ fromJSON(...) }}``), else ""."""
        matrix = (self.data.get("strategy") or {}).get("matrix")
        return matrix if isinstance(matrix, str) else ""

    @property
    def environment(self) -> dict[str, Any] | None:
        """The job's environment as ``{"name": ..., "url": ...}``, or None."""
        env = self.data.get("environment")
        if env is None:
            return None
        return {"name": env} if isinstance(env, str) else dict(env)

    def steps_using(self, action: str) -> list[Step]:
        """The steps that use ``action`` (compared case-insensitively, without the ref)."""
        return [s for s in self.steps if s.action.lower() == action.lower()]


@dataclass(frozen=True)
class Workflow:
    """A parsed workflow file and its raw text."""

    path: Path
    text: str

    @cached_property
    def data(self) -> dict[Any, Any]:
        try:
            data = yaml.safe_load(self.text)
        except yaml.YAMLError as exc:
            raise ReleaseError(f"{self.path.name}: {exc}") from exc
        if not isinstance(data, dict):
            raise ReleaseError(f"{self.path.name}: not a mapping")
        return data

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def triggers(self) -> dict[str, Any]:
        """The ``on:`` mapping."""
        on = self.data.get("on", self.data.get(True))
        if isinstance(on, str):
            return {on: None}
        return dict.fromkeys(on) if isinstance(on, list) else dict(on or {})

    @property
    def jobs(self) -> dict[str, Job]:
        return {jid: Job(jid, dict(j or {})) for jid, j in (self.data.get("jobs") or {}).items()}

    def job(self, job_id: str) -> Job:
        """The job ``job_id``; a missing job is a :class:`ReleaseError`."""
        if job_id not in self.jobs:
            raise ReleaseError(f"{self.name}: no job {job_id!r}")
        return self.jobs[job_id]


def load_workflow(path: Path) -> Workflow:
    """Read a workflow file; a missing file is a :class:`ReleaseError`."""
    try:
        return Workflow(path, path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReleaseError(f"missing workflow {path}") from exc


def run_commands(script: str) -> list[str]:
    """The logical command lines of a ``run:`` script (continuations joined, blanks dropped)."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip()]
