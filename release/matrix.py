"""``matrix``: the release workflow's job matrices, generated from the contract.

The ``verify`` job runs ``python -m release matrix --github-output "$GITHUB_OUTPUT"`` and the
``wheels``, ``test`` and ``smoke-testpypi`` jobs read its outputs with ``fromJSON``, so the
workflow never restates which wheels exist, where they are built, and where and how each is
tested: MATURIN_COMPLIANCE.md's contract block is the only place that says it.

* ``build``: one entry per target: ``id``, ``runner``, ``target`` (Rust), ``manylinux``
  (level, ``musllinux_1_2`` or empty), ``macos-deployment-target`` (or empty).
* ``test``: every contract Python x every test run of every target and of the sdist-built
  wheel: ``artifact``, ``runner``, ``machine``, ``via``, ``container``, ``python``.
* ``smoke``: the contract Pythons, for installing the upload back from TestPyPI.
* ``free_threaded``: one entry per cibuildwheel target of free-threaded wheels: ``id``,
  ``runner``, ``archs``.

Without ``--github-output`` the three matrices are printed as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from release.contract import Contract, Target, load_contract
from release.project import Project


def build_matrix(contract: Contract) -> dict[str, Any]:
    """The wheels job's matrix: one entry per contract target."""
    return {
        "include": [
            {
                "id": t.id,
                "runner": t.runner,
                "target": t.rust_target,
                "manylinux": t.manylinux or "",
                "macos-deployment-target": t.macos_deployment_target or "",
            }
            for t in contract.targets
        ]
    }


def _artifact(contract: Contract, target: Target) -> str:
    return target.id if target is contract.sdist_wheel else f"dist-{target.id}"


def test_matrix(contract: Contract) -> dict[str, Any]:
    """The test job's matrix: every Python x every test run of every wheel."""
    include = [
        {
            "artifact": _artifact(contract, target),
            "runner": run.runner,
            "machine": run.machine,
            "via": run.via,
            "container": run.container,
            "python": python,
        }
        for target in (*contract.targets, contract.sdist_wheel)
        for run in target.tests
        for python in contract.pythons
    ]
    return {"include": include}


def smoke_matrix(contract: Contract) -> dict[str, Any]:
    """The TestPyPI smoke test's matrix: every contract Python."""
    return {"python": list(contract.pythons)}


def free_threaded_matrix(contract: Contract) -> dict[str, Any]:
    """The cibuildwheel job's matrix: one entry per free-threaded target."""
    ft = contract.free_threaded
    targets = ft.targets if ft else ()
    return {"include": [{"id": t.id, "runner": t.runner, "archs": t.archs} for t in targets]}


def matrices(contract: Contract) -> dict[str, dict[str, Any]]:
    """The matrices by output name."""
    return {
        "build": build_matrix(contract),
        "test": test_matrix(contract),
        "smoke": smoke_matrix(contract),
        "free_threaded": free_threaded_matrix(contract),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``matrix``."""
    parser.add_argument(
        "--github-output",
        type=Path,
        metavar="FILE",
        help="append build=, test=, smoke= and free_threaded= lines to this file ($GITHUB_OUTPUT)",
    )


def main(args: argparse.Namespace, project: Project) -> int:
    """Print the matrices, or write them as step outputs."""
    found = matrices(load_contract(project))
    if args.github_output is None:
        print(json.dumps(found, indent=2))
        return 0
    with args.github_output.open("a", encoding="utf-8") as out:
        for name, value in found.items():
            out.write(f"{name}={json.dumps(value, separators=(',', ':'))}\n")
    for name, value in found.items():
        print(f"{name}: {len(value.get('include', value.get('python', [])))} entries")
    return 0
