"""``compliance [--check]``: write what follows from release/contract.toml, or check it.

Written: MATURIN_COMPLIANCE.md (the contract verbatim, what is derived from it, facts read
from the repository and every rule with whether it holds), the
documents' release-files blocks, pyproject.toml's Python classifiers and ci.yml's test
Pythons. ``--check`` writes nothing and exits 1 when any of them is stale or a rule fails.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
from collections.abc import Iterable

from release import release_files
from release.console import detail, error, step
from release.contract import CONTRACT, Contract, load_contract
from release.errors import ReleaseError
from release.manifest import full_manifest
from release.matrix import matrices, size
from release.project import COMPLIANCE_DOC, PYPROJECT, TOOLCHAIN, WORKFLOWS_DIR, Project
from release.rules import ALL_RULES, Context, Rule

PREAMBLE = f"""\
# Maturin release compliance

Generated from [`{CONTRACT}`]({CONTRACT}) and the repository by
`uv run --only-group release python -m release compliance`: edit the contract, never this
file. `python -m release compliance --check` (run by `.ci/release-gates`, by CI and by the
release workflow's `verify` job) fails when this file is stale or when any rule fails. How
to release: [docs/releasing.md](docs/releasing.md)."""

#: pyproject.toml's run of Python version classifiers, one per contract Python.
CLASSIFIERS = re.compile(r'(    "Programming Language :: Python :: 3\.\d+",\n)+')
#: ci.yml's test job Pythons (the only `python: [...]` matrix axis there).
CI_PYTHONS = re.compile(r"^(\s+python: )\[.*\]$", re.M)


def evaluate(project: Project) -> dict[Rule, tuple[str, ...]]:
    """Each rule's problems on ``project`` (none when it holds); a rule that crashes fails
    with the reason."""
    ctx, results = Context(project), {}
    for rule in ALL_RULES:
        try:
            results[rule] = tuple(rule.check(ctx))
        except (ReleaseError, KeyError, TypeError, ValueError, AttributeError) as exc:
            results[rule] = (f"could not evaluate: {type(exc).__name__}: {exc}",)
    return results


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *map(line, rows)]


def _codes(values: Iterable[object]) -> str:
    return ", ".join(f"`{value}`" for value in values)


def _derived_section(project: Project, contract: Contract) -> list[str]:
    ft = contract.free_threaded
    total, abi3, free = release_files.counts(project, contract)
    sizes = ", ".join(f"`{name}` {size(m)}" for name, m in matrices(contract).items())
    rows = [
        ["abi3 wheel tag (the oldest Python)", f"`{contract.python_tag}-{contract.abi}`",
         "wheel names, `requires-python`, pyo3's `abi3-py` feature"],
        [f"free-threaded ABIs (Pythons from {ft.pythons[0]} on)", _codes(ft.abis),
         f"free-threaded wheel names; cibuildwheel selector `{ft.selector}` (`CIBW_BUILD`)"],
        ["release.yml matrices (jobs)", sizes, "`release matrix` (rule `matrix-from-contract`)"],
        ["release files", f"{total}: {abi3} abi3, {free} free-threaded, 1 sdist",
         "the manifest below, README.md, docs/releasing.md (rule `release-files-documented`)"],
        ["Python classifiers, CI test Pythons", ", ".join(contract.pythons),
         f"{PYPROJECT}, {contract.ci_workflow} (rules `metadata-classifiers`, `matrix-ci`)"],
    ]  # fmt: skip
    return ["## Derived from the contract", "", *_table(["what", "value", "used by"], rows)]


def _package_section(project: Project) -> list[str]:
    pyproject, cargo = project.pyproject, project.cargo
    maturin = pyproject.get("tool", {}).get("maturin", {})
    profile = cargo.get("profile", {}).get("release", {})
    conf = "pyproject.toml `[tool.maturin]`"
    rows = [
        ["distribution", f"`{project.dist_name}`", "pyproject.toml `[project].name`"],
        ["version", f"`{project.version}`", "Cargo.toml `[package].version`"],
        ["requires-python", f"`{pyproject['project'].get('requires-python')}`", "pyproject.toml"],
        ["pyo3 features", _codes(cargo["dependencies"]["pyo3"].get("features", [])), "Cargo.toml"],
        ["extension module", f"`{maturin.get('module-name')}`", conf],
        ["maturin features", _codes(maturin.get("features", [])), conf],
        ["build backend", _codes(pyproject["build-system"]["requires"]),
         "pyproject.toml `[build-system]`"],
        ["Rust toolchain", f"`{project.toml(TOOLCHAIN)['toolchain']['channel']}`", TOOLCHAIN],
        ["release profile", _codes(f"{k} = {json.dumps(v)}" for k, v in profile.items()),
         "Cargo.toml `[profile.release]`"],
        ["Sigstore identity repository", f"`{project.repository}`",
         "pyproject.toml `[project.urls]`, else the toolkit default"],
    ]  # fmt: skip
    return ["## Package", "", *_table(["fact", "value", "read from"], rows)]


def render(project: Project, results: dict[Rule, tuple[str, ...]]) -> str:
    """The full MATURIN_COMPLIANCE.md text for ``project``."""
    contract = load_contract(project)
    rules = [[f"`{r.id}`", r.enforces, "FAIL" if bad else "pass"] for r, bad in results.items()]
    sections = [
        [PREAMBLE],
        ["## Contract", "", f"`{CONTRACT}`, verbatim (the only hand-edited input):", "",
         "```toml", project.text(CONTRACT).rstrip(), "```"],
        _derived_section(project, contract),
        _package_section(project),
        [f"## Expected artifacts of {project.version}", "",
         "Output of `python -m release manifest`; the release fails on a missing or an "
         "unexpected file (rule `expected-manifest`).", "",
         *[f"- `{name}`" for name in full_manifest(project, contract, project.version)]],
        ["## Rules", "",
         "Each rule is code in `release/rules/`; `tests/release/test_rules_break.py` breaks "
         "each one in a temporary copy of the repository and asserts that it fails.", "",
         *_table(["rule", "enforces", "status"], rules)],
    ]  # fmt: skip
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def derived_files(project: Project) -> dict[str, str]:
    """Path -> generated text of every file besides MATURIN_COMPLIANCE.md that follows from
    the contract in part: pyproject.toml, ci.yml and the documents' release-files blocks."""
    contract = load_contract(project)
    pythons = "".join(f'    "Programming Language :: Python :: {p}",\n' for p in contract.pythons)
    ci = f"{WORKFLOWS_DIR}/{contract.ci_workflow}"
    texts = {
        PYPROJECT: CLASSIFIERS.sub(lambda _: pythons, project.text(PYPROJECT), count=1),
        ci: CI_PYTHONS.sub(
            lambda m: m[1] + json.dumps(list(contract.pythons)), project.text(ci), count=1
        ),
    }
    for doc, body in release_files.blocks(project, contract).items():
        texts[doc] = release_files.replaced(project.text(doc), body)
    return texts


def _write(project: Project, texts: dict[str, str]) -> None:
    for path, text in texts.items():
        if project.text(path) != text:
            project.path(path).write_text(text, encoding="utf-8")
            detail(f"wrote {path}")


def check(project: Project, *, write: bool = False) -> int:
    """1 when a rule fails or (unless ``write`` rewrote them) a generated file is stale."""
    derived = derived_files(project)
    if write:  # first, so the rules see the files as written
        _write(project, derived)
    step("evaluate the compliance rules")
    results = evaluate(project)
    for rule, problems in results.items():
        if not problems:
            detail(f"pass  {rule.id}")
        for problem in problems:
            print(f"FAIL rule {rule.id}: {problem}", flush=True)
    failed = [rule.id for rule, problems in results.items() if problems]
    if failed:
        error(f"{len(failed)} rule(s) fail: {', '.join(failed)}")
    generated = {**derived, COMPLIANCE_DOC: render(project, results)}
    stale = [] if write else [p for p, text in generated.items() if project.text(p) != text]
    if write:
        _write(project, generated)
    for path in stale:
        old = project.text(path).splitlines()
        diff = difflib.unified_diff(old, generated[path].splitlines(), path, "new", lineterm="")
        print("\n".join(list(diff)[:60]))
    if stale:
        error(f"stale: {', '.join(stale)}; run `python -m release compliance` and commit")
    elif not failed:
        detail(f"{COMPLIANCE_DOC} and the generated files are current; {len(results)} rules pass")
    return 1 if failed or stale else 0


def regenerate(project: Project) -> int:
    """Write every generated file; 1 if any rule fails (the document then says so), else 0."""
    return check(project, write=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if stale or any rule fails"
    )


def main(args: argparse.Namespace, project: Project) -> int:
    return check(project, write=not args.check)
