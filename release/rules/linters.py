"""Rules that run the workflow linters: actionlint (with shellcheck) and zizmor (offline)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from release.project import GITHUB_DIR, ZIZMOR_CONFIG
from release.rules.base import Context, Rule

LINT_TIMEOUT = 120


def tool_path(name: str) -> str | None:
    """A linter binary: next to the running interpreter (the release group's venv), else PATH."""
    beside = Path(sys.executable).parent / (name + (".exe" if os.name == "nt" else ""))
    return str(beside) if beside.is_file() else shutil.which(name)


def _run(cmd: list[str], cwd: Path) -> tuple[int, str]:
    env = {**os.environ, "NO_COLOR": "1", "PATH": os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    )}  # fmt: skip
    try:
        result = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=LINT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return 1, f"timed out after {LINT_TIMEOUT}s"
    return result.returncode, (result.stdout + result.stderr).strip()


def _workflow_files(ctx: Context) -> list[str]:
    return [str(w.path.relative_to(ctx.project.root)) for w in ctx.workflows]


def actionlint(ctx: Context) -> list[str]:
    """actionlint reports nothing on either workflow."""
    binary = tool_path("actionlint")
    if binary is None:
        return ["actionlint is not installed (uv run --only-group release ...)"]
    code, out = _run([binary, "-no-color", "-oneline", *_workflow_files(ctx)], ctx.project.root)
    if code == 0:
        return []
    return [line for line in out.splitlines() if line.strip()] or [f"actionlint exit {code}"]


def zizmor(ctx: Context) -> list[str]:
    """zizmor (offline, pedantic persona) reports nothing on .github (workflows and
    dependabot.yml)."""
    binary = tool_path("zizmor")
    if binary is None:
        return ["zizmor is not installed (uv run --only-group release ...)"]
    cmd = [binary, "--offline", "--no-progress", "--persona", "pedantic", "--format", "plain"]
    config = ctx.project.path(ZIZMOR_CONFIG)
    cmd += ["--config", str(config)] if config.is_file() else ["--no-config"]
    code, out = _run([*cmd, GITHUB_DIR], ctx.project.root)
    if code == 0:
        return []
    lines = [ln for ln in out.splitlines() if ln.startswith(("error", "warning", "help", "info"))]
    return lines or [f"zizmor exit {code}: {out[-400:]}"]


RULES = [
    Rule(
        "actionlint", "actionlint (with shellcheck on `run:` scripts) reports nothing", actionlint
    ),
    Rule(
        "zizmor",
        "zizmor --offline reports nothing at its pedantic persona on .github (workflows and "
        "dependabot.yml)",
        zizmor,
    ),
]
