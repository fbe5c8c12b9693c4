"""The nox sessions of noxfile.py, read statically (no nox needed): their names as `nox
--list` prints them, whether `nox --list --json` lists them, their Python, tags, LOCAL_ONLY
and what each installs (INSTALLS). Read by the rule `ci-sessions` and by check-installs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from release.errors import ReleaseError

NOXFILE = "noxfile.py"


@dataclass(frozen=True)
class NoxSession:
    """One session as `nox --list` names it, and whether `nox --list --json` lists it."""

    name: str
    default: bool
    commands: tuple[tuple[str, ...], ...]  # the literal arguments of each session.run(...)
    base: str = ""  # the name without its Python ("tests" for tests-3.13)
    python: str | None = None  # the session's own CPython, when it names one
    tags: tuple[str, ...] = ()


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
            default = keywords.get("default", True) is not False
            tags = tuple(keywords.get("tags") or ())
            commands = _commands(node)
            if isinstance(pythons, list):
                sessions += [
                    NoxSession(f"{base}-{p}", default, commands, base, p, tags) for p in pythons
                ]
            else:
                python = pythons if isinstance(pythons, str) else None
                sessions.append(NoxSession(base, default, commands, base, python, tags))
    local_only = constants.get("LOCAL_ONLY")
    return sessions, local_only if isinstance(local_only, dict) else {}


def session_installs(source: str) -> dict[str, list[str]]:
    """noxfile.py's INSTALLS: session (base name) -> the dependency groups ("project" for
    the package itself) and requirement specifiers it installs."""
    installs = _constants(ast.parse(source)).get("INSTALLS")
    if not isinstance(installs, dict):
        raise ReleaseError(f"{NOXFILE} has no INSTALLS table of what each session installs")
    return installs
