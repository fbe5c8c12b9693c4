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


def _is_call(node: ast.AST, *names: str) -> bool:
    """Whether ``node`` is a call ``x.<name>(...)``."""
    return isinstance(node, ast.Call) and getattr(node.func, "attr", None) in names


def _commands(function: ast.FunctionDef) -> tuple[tuple[str, ...], ...]:
    """The literal string arguments of each ``session.run``/``run_install`` call."""
    return tuple(
        tuple(
            a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        )
        for call in ast.walk(function)
        if isinstance(call, ast.Call) and _is_call(call, "run", "run_install")
    )


def parse_noxfile(source: str) -> tuple[list[NoxSession], dict[str, Any]]:
    """The sessions of a noxfile (names as `nox --list` prints them) and its LOCAL_ONLY."""
    tree = ast.parse(source)
    constants = _constants(tree)
    sessions: list[NoxSession] = []
    for node in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for call in (d for d in node.decorator_list if isinstance(d, ast.Call)):
            if not _is_call(call, "session"):
                continue
            keywords = {k.arg: _value(k.value, constants) for k in call.keywords if k.arg}
            base = keywords.get("name") or node.name
            pythons = keywords.get("python")
            default = keywords.get("default", True) is not False
            tags, commands = tuple(keywords.get("tags") or ()), _commands(node)
            if isinstance(pythons, list):
                named = [(f"{base}-{p}", p) for p in pythons]
            else:
                named = [(base, pythons if isinstance(pythons, str) else None)]
            sessions += [NoxSession(n, default, commands, base, p, tags) for n, p in named]
    local_only = constants.get("LOCAL_ONLY")
    return sessions, local_only if isinstance(local_only, dict) else {}


def session_installs(source: str) -> dict[str, list[str]]:
    """noxfile.py's INSTALLS: session (base name) -> the dependency groups ("project" for
    the package itself) and requirement specifiers it installs."""
    installs = _constants(ast.parse(source)).get("INSTALLS")
    if not isinstance(installs, dict):
        raise ReleaseError(f"{NOXFILE} has no INSTALLS table of what each session installs")
    return installs
