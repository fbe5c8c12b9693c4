"""The rule that release/contract.toml itself is complete and consistent."""

from __future__ import annotations

import re

from release.contract import CONTAINERS, VIAS, Target
from release.errors import ReleaseError
from release.rules.base import Context, Rule


def _target_problems(target: Target) -> list[str]:
    found = [] if target.tests else [f"target {target.id} is tested nowhere"]
    linux, musl = target.os == "linux", target.rust_target.endswith("-musl")
    if linux != bool(target.manylinux):
        found.append(f"target {target.id}: a manylinux level iff it is a Linux target")
    if linux and musl != str(target.manylinux).startswith("musllinux_"):
        found.append(f"target {target.id}: a musl Rust target needs a musllinux_X_Y level")
    if target.os == "macos" and not target.macos_deployment_target:
        found.append(f"target {target.id} has no macos_deployment_target")
    for run in target.tests:
        where = f"target {target.id}: tested on {run.runner} via {run.via} in {run.container}"
        if run.via not in VIAS or run.container not in CONTAINERS:
            found.append(f"{where}: via is one of {VIAS}, container one of {CONTAINERS}")
        if run.via == "qemu" and run.container == "none":
            found.append(f"{where}: a QEMU run needs a container")
        if linux and musl != (run.container == "alpine"):
            found.append(f"{where}: musllinux wheels are tested in alpine, manylinux wheels not")
    return found


def contract_consistent(ctx: Context) -> list[str]:
    """The contract parses, and every target is fully described."""
    try:
        contract = ctx.contract
    except ReleaseError as exc:  # a missing, misspelt or mistyped key
        return [str(exc)]
    found = [f"python {p!r} is not 3.N" for p in contract.pythons if not re.fullmatch(r"3\.\d+", p)]
    if not contract.pythons or len(set(contract.pythons)) != len(contract.pythons):
        found.append(f"pythons {list(contract.pythons)} must be non-empty and distinct")
    if not contract.free_threaded.pythons:
        found.append("[free_threaded].since selects none of the contract's pythons")
    ids = [t.id for t in contract.targets]
    if len(set(ids)) != len(ids):
        found.append(f"target ids {ids} are not distinct")
    for target in contract.targets:  # the sdist wheel is a copy of one of them
        found += _target_problems(target)
    if {e.name for e in contract.environments} != {"testpypi", "pypi"}:
        found.append("environments must be exactly testpypi and pypi")
    if not re.fullmatch(r"[\w.-]+\.ya?ml", contract.release_workflow):
        found.append(f"release_workflow {contract.release_workflow!r} is not a workflow file name")
    return found


RULES = [
    Rule(
        "contract",
        "release/contract.toml parses; Pythons are distinct 3.N versions; every target has a "
        "manylinux level iff it is Linux (musllinux iff musl, then tested in Alpine), a "
        "deployment target if macOS, and at least one test run (native, or QEMU in a container)",
        contract_consistent,
    )
]
