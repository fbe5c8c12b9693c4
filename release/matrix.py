"""``matrix``: the release workflow's job matrices, derived from release/contract.toml.

The ``verify`` job runs ``python -m release matrix --github-output "$GITHUB_OUTPUT"`` and the
``wheels``, ``free-threaded-wheels``, ``test`` and ``smoke-testpypi`` jobs read its outputs
with ``fromJSON``, so the workflow never restates which wheels exist, where they are built,
and where and how each is tested (rule ``matrix-from-contract``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from release.contract import Contract, load_contract
from release.project import Project


def matrices(contract: Contract) -> dict[str, dict[str, Any]]:
    """The matrices by output name; ``test`` is every Python at every test run of every wheel
    (the sdist-built one included), ``smoke`` the Pythons the TestPyPI upload is tested on."""
    build = [
        {"id": t.id, "runner": t.runner, "target": t.rust_target, "manylinux": t.manylinux or "",
         "macos-deployment-target": t.macos_deployment_target or ""}
        for t in contract.targets
    ]  # fmt: skip
    test = [
        {"artifact": target.id if target is contract.sdist_wheel else f"dist-{target.id}",
         "runner": run.runner, "machine": run.machine, "via": run.via,
         "container": run.container, "python": python}
        for target in (*contract.targets, contract.sdist_wheel)
        for run in target.tests
        for python in contract.pythons
    ]  # fmt: skip
    ft = contract.free_threaded
    free_threaded = [
        {"id": t.id, "runner": t.runner, "archs": t.archs, "build": ft.selector} for t in ft.targets
    ]
    return {
        "build": {"include": build},
        "test": {"include": test},
        "smoke": {"python": list(contract.pythons)},
        "free_threaded": {"include": free_threaded},
    }


def size(matrix: dict[str, Any]) -> int:
    """The number of jobs ``matrix`` makes (one ``include`` list or one axis)."""
    return len(matrix.get("include", matrix.get("python", [])))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--github-output",
        type=Path,
        metavar="FILE",
        help="append build=, test=, smoke= and free_threaded= lines to this file ($GITHUB_OUTPUT)",
    )


def main(args: argparse.Namespace, project: Project) -> int:
    """Print the matrices as one JSON object, or append them to ``--github-output``."""
    found = matrices(load_contract(project))
    if args.github_output is None:
        print(json.dumps(found, indent=2))
        return 0
    with args.github_output.open("a", encoding="utf-8") as out:
        for name, value in found.items():
            out.write(f"{name}={json.dumps(value, separators=(',', ':'))}\n")
    for name, value in found.items():
        print(f"{name}: {size(value)} entries")
    return 0
