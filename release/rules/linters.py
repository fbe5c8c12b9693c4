"""Rules that run the workflow linters: actionlint (with shellcheck) and zizmor (offline)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from release.process import run
from release.project import GITHUB_DIR, ZIZMOR_CONFIG
from release.rules.base import Context, rules

LINT_TIMEOUT = 120


def tool_path(name: str) -> str | None:
    """A linter binary: next to the running interpreter (the release group's venv), else PATH."""
    beside = Path(sys.executable).parent / (name + (".exe" if os.name == "nt" else ""))
    return str(beside) if beside.is_file() else shutil.which(name)


def _run(cmd: list[str], cwd: Path) -> tuple[int, str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    result = run(cmd, cwd=cwd, env={"NO_COLOR": "1", "PATH": path}, timeout=LINT_TIMEOUT,
                 capture=True, check=False, echo=False)  # fmt: skip
    return result.returncode, result.stdout.strip()


def actionlint(ctx: Context) -> list[str]:
    """actionlint (with shellcheck on `run:` scripts) reports nothing"""
    binary = tool_path("actionlint")
    if binary is None:
        return ["actionlint is not installed (uv run --only-group release ...)"]
    files = [str(w.path.relative_to(ctx.project.root)) for w in ctx.workflows]
    code, out = _run([binary, "-no-color", "-oneline", *files], ctx.project.root)
    if code == 0:
        return []
    return [line for line in out.splitlines() if line.strip()] or [f"actionlint exit {code}"]


def zizmor(ctx: Context) -> list[str]:
    """zizmor --offline --strict-collection reports nothing at its pedantic persona on .github
    (workflows and dependabot.yml): unpinned-uses, excessive-permissions, undocumented-permissions,
    artipacked and cache-poisoning among its audits"""
    binary = tool_path("zizmor")
    if binary is None:
        return ["zizmor is not installed (uv run --only-group release ...)"]
    cmd = [binary, "--offline", "--strict-collection", "--no-progress", "--persona", "pedantic"]
    cmd += ["--format", "plain"]
    config = ctx.project.path(ZIZMOR_CONFIG)
    cmd += ["--config", str(config)] if config.is_file() else ["--no-config"]
    code, out = _run([*cmd, GITHUB_DIR], ctx.project.root)
    if code == 0:
        return []
    lines = [ln for ln in out.splitlines() if ln.startswith(("error", "warning", "help", "info"))]
    return lines or [f"zizmor exit {code}: {out[-400:]}"]


RULES = rules(
    actionlint,
    zizmor,
)
