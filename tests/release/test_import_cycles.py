"""release/ has no import cycle: its modules form a graph that can be ordered, lazy imports
inside functions included (they hide a cycle, they do not remove it)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from release_edits import REPO

PACKAGE = REPO / "release"


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the release modules it imports (``from release import x`` names module x)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                subs = {f"{node.module}.{a.name}" for a in node.names}
                imported |= (subs & modules.keys()) or {node.module}
        graph[name] = (imported & modules.keys()) - {name}
    return graph


def test_release_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 30  # the walk found the package
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle in release/: {' -> '.join(exc.args[1])}") from None
