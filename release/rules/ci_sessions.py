"""The rule that GitHub runs every check `.ci/run` runs: each nox session of noxfile.py is a
ci.yml job, or is listed in noxfile.py's ``LOCAL_ONLY`` with the reason it is not.

ci.yml's session jobs come from ``nox --list --json``, which lists the default sessions, so
the rule reads noxfile.py statically (no nox needed): every session is default unless
``LOCAL_ONLY`` names it with a reason, and ci.yml turns that list, unfiltered, into a job
per session on ubuntu-24.04 that runs ``.ci/nox -s "$SESSION"``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from release.errors import ReleaseError
from release.rules.base import Context, Rule

NOXFILE = "noxfile.py"
LIST_COMMAND = ".ci/nox --list --json"
#: The jq expression that gives every listed session its ubuntu-24.04 job.
EVERY_SESSION = '.[] | {session, runner: "ubuntu-24.04"}'
RUN_COMMAND = '.ci/nox -s "$SESSION"'
SESSION_ENV = "${{ matrix.session }}"


@dataclass(frozen=True)
class NoxSession:
    """One session as `nox --list` names it, and whether `nox --list --json` lists it."""

    name: str
    default: bool
    commands: tuple[tuple[str, ...], ...]  # the literal arguments of each session.run(...)


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to literals (lists, strings, dicts of strings)."""
    found: dict[str, Any] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and value is not None:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


def _value(node: ast.expr, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        container = constants.get(node.value.id)
        if not isinstance(container, list | dict):
            return None
        try:
            return container[ast.literal_eval(node.slice)]
        except (ValueError, TypeError, KeyError, IndexError):
            return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _commands(function: ast.FunctionDef) -> tuple[tuple[str, ...], ...]:
    runs = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run", "run_install")
        ):
            runs.append(
                tuple(
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
            )
    return tuple(runs)


def _session_call(decorator: ast.expr) -> ast.Call | None:
    if isinstance(decorator, ast.Call):
        func = decorator.func
        if isinstance(func, ast.Attribute) and func.attr == "session":
            return decorator
    return None


def parse_noxfile(source: str) -> tuple[list[NoxSession], dict[str, Any]]:
    """The sessions of a noxfile (names as `nox --list` prints them) and its LOCAL_ONLY."""
    tree = ast.parse(source)
    constants = _constants(tree)
    sessions: list[NoxSession] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = _session_call(decorator)
            if call is None:
                continue
            keywords = {k.arg: _value(k.value, constants) for k in call.keywords if k.arg}
            base = keywords.get("name") or node.name
            pythons = keywords.get("python")
            names = [f"{base}-{p}" for p in pythons] if isinstance(pythons, list) else [base]
            default = keywords.get("default", True) is not False
            sessions += [NoxSession(n, default, _commands(node)) for n in names]
    local_only = constants.get("LOCAL_ONLY")
    return sessions, local_only if isinstance(local_only, dict) else {}


def _hosted_jobs(ctx: Context) -> list[str]:
    """What keeps ci.yml from running every listed session on ubuntu-24.04."""
    jobs = ctx.ci.jobs
    lists = [
        job.id
        for job in jobs.values()
        if any(LIST_COMMAND in s.run and EVERY_SESSION in s.run for s in job.steps)
    ]
    if not lists:
        return [
            f"ci.yml has no job listing the sessions with `{LIST_COMMAND}` and `{EVERY_SESSION}`"
        ]
    runners = [
        job
        for job in jobs.values()
        if any(
            job.matrix_expression == "" and f"needs.{j}.outputs." in str(job.matrix.get("include"))
            for j in lists
        )
        and any(RUN_COMMAND in s.run for s in job.steps)
    ]
    if not runners:
        return [f"ci.yml has no job whose matrix is the session list and that runs `{RUN_COMMAND}`"]
    found = []
    for job in runners:
        env = {**(job.data.get("env") or {})}
        for step in job.steps:
            if RUN_COMMAND in step.run:
                env.update(step.data.get("env") or {})
        if env.get("SESSION") != SESSION_ENV:
            found.append(f"ci.yml {job.id}: SESSION is not {SESSION_ENV}")
    return found


def ci_sessions(ctx: Context) -> list[str]:
    """Every nox session is a ci.yml job, or LOCAL_ONLY names it with a reason."""
    try:
        sessions, local_only = parse_noxfile(ctx.project.text(NOXFILE))
    except (ReleaseError, SyntaxError) as exc:
        return [f"{NOXFILE}: {exc}"]
    if not sessions:
        return [f"{NOXFILE} defines no nox session"]
    found: list[str] = []
    names = {s.name for s in sessions}
    for session in sessions:
        if not session.default and session.name not in local_only:
            found.append(
                f"nox session {session.name} is not run by ci.yml (default=False) and "
                "LOCAL_ONLY gives no reason"
            )
        if session.default and session.name in local_only:
            found.append(f"LOCAL_ONLY names {session.name}, which ci.yml runs (default session)")
    for name, reason in local_only.items():
        if name not in names:
            found.append(f"LOCAL_ONLY names {name}, which is no nox session")
        if not str(reason).strip():
            found.append(f"LOCAL_ONLY gives no reason for {name}")
    return found + _hosted_jobs(ctx)


RULES = [
    Rule(
        "ci-sessions",
        "every nox session of noxfile.py (what `.ci/run` runs) is a ci.yml job, made from "
        "`nox --list --json` on ubuntu-24.04, or is listed in noxfile.py's LOCAL_ONLY with "
        "the reason it runs only locally",
        ci_sessions,
    )
]
