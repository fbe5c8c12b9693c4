"""The rule that the contract block itself is complete and consistent."""

from __future__ import annotations

import re

from release.rules.base import Context, Rule


def contract_consistent(ctx: Context) -> list[str]:
    """The contract parses, and every target is fully described."""
    contract = ctx.contract
    found: list[str] = []
    if not contract.pythons or len(set(contract.pythons)) != len(contract.pythons):
        found.append(f"pythons {list(contract.pythons)} must be non-empty and distinct")
    found += [
        f"python {p!r} is not 3.N" for p in contract.pythons if not re.fullmatch(r"3\.\d+", p)
    ]
    ids = [t.id for t in contract.targets]
    if len(set(ids)) != len(ids):
        found.append(f"target ids {ids} are not distinct")
    for target in (*contract.targets, contract.sdist_wheel):
        if not target.tests:
            found.append(f"target {target.id} is tested nowhere")
        if target.os == "linux" and not target.manylinux:
            found.append(f"target {target.id} has no manylinux level")
        if target.os != "linux" and target.manylinux:
            found.append(f"target {target.id} is not Linux but has a manylinux level")
        musl = target.rust_target.endswith("-musl")
        if target.os == "linux" and musl != str(target.manylinux).startswith("musllinux_"):
            found.append(f"target {target.id}: a musl Rust target needs a musllinux_X_Y level")
        for run in target.tests:
            if target.os == "linux" and musl != (run.container == "alpine"):
                found.append(
                    f"target {target.id}: tested on {run.runner} in container {run.container}; "
                    "musllinux wheels are tested in alpine, manylinux wheels not"
                )
        if target.os == "macos" and not target.macos_deployment_target:
            found.append(f"target {target.id} has no macos_deployment_target")
    if {e.name for e in contract.environments} != {"testpypi", "pypi"}:
        found.append("environments must be exactly testpypi and pypi")
    if not re.fullmatch(r"[\w.-]+\.ya?ml", contract.release_workflow):
        found.append(f"release_workflow {contract.release_workflow!r} is not a workflow file name")
    return found


RULES = [
    Rule(
        "contract",
        "the contract block parses; Pythons are distinct 3.N versions; every target has a "
        "manylinux level iff it is Linux (musllinux iff musl, then tested in Alpine), a "
        "deployment target if macOS, and at least one test run",
        contract_consistent,
    )
]
