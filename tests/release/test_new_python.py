"""A new CPython is one edit: one line of release/contract.toml, then `release compliance`.

Before regenerating, the only failing rules are the ones whose text is generated from the
contract (and they name the files); after it, every rule holds and everything derived lists
the new version: the matrices, the free-threaded wheels and cibuildwheel's selector, the
manifest and its counts, pyproject.toml's classifiers, ci.yml's test Pythons, the documents.
"""

from __future__ import annotations

import json
from pathlib import Path

from release_edits import failing, replace, skip_missing_linter

from release import compliance
from release.__main__ import main
from release.contract import CONTRACT, load_contract
from release.manifest import full_manifest
from release.project import Project
from release.workflows import load_workflow

PYTHONS = 'pythons = ["3.12", "3.13", "3.14", "3.15"]'


def test_a_new_python_is_one_line_of_the_contract(repo_copy: Path, tmp_path: Path) -> None:
    skip_missing_linter("actionlint", "zizmor")
    project = Project(repo_copy)
    before = {path: project.text(path) for path in compliance.derived_files(project)}
    replace(CONTRACT, PYTHONS, PYTHONS.replace('"3.15"]', '"3.15", "3.16"]'))(repo_copy)

    # The rules name exactly the generated text that is stale, nothing written by hand.
    stale = failing(repo_copy)
    assert set(stale) == {"metadata-classifiers", "matrix-ci", "release-files-documented"}
    assert "3.16" in stale["metadata-classifiers"][0]
    assert "3.16" in stale["matrix-ci"][0]
    assert compliance.check(project) == 1

    assert compliance.regenerate(project) == 0
    assert failing(repo_copy) == {}
    assert compliance.check(project) == 0
    changed = {path for path, text in before.items() if project.text(path) != text}
    assert changed == {"pyproject.toml", ".github/workflows/ci.yml", "README.md",
                       "docs/releasing.md"}  # fmt: skip

    contract = load_contract(project)
    assert contract.free_threaded.abis == ("cp314t", "cp315t", "cp316t")
    assert contract.min_python == "3.12"  # the abi3 floor does not move
    names = full_manifest(project, contract, project.version)
    assert len(names) == 7 + 3 * 8 + 1  # abi3 wheels, free-threaded per Python, the sdist
    assert sum("-cp316-cp316t-" in name for name in names) == 8
    assert '"Programming Language :: Python :: 3.16",' in project.text("pyproject.toml")
    ci = load_workflow(project.workflow_path("ci.yml"))
    assert ci.job("test").matrix["python"] == ["3.12", "3.13", "3.14", "3.15", "3.16"]
    readme = project.text("README.md")
    assert "A release is 32 files: 7 abi3 wheels, 24 free-threaded wheels" in readme
    assert "| CPython 3.16t | `web_transport_python-<version>-cp316-cp316t-" in readme
    assert "| CPython 3.12\u20133.16 (GIL) |" in readme
    assert "(CPython 3.14t, 3.15t, 3.16t)" in project.text("docs/releasing.md")
    assert "selector `cp314t-* cp315t-* cp316t-*`" in project.text("MATURIN_COMPLIANCE.md")

    out = tmp_path / "github_output"
    assert main(["--root", str(repo_copy), "matrix", "--github-output", str(out)]) == 0
    lines = {
        k: json.loads(v)
        for k, v in (line.split("=", 1) for line in out.read_text().split("\n") if line)
    }
    assert lines["smoke"]["python"][-1] == "3.16"
    assert {e["build"] for e in lines["free_threaded"]["include"]} == {"cp314t-* cp315t-* cp316t-*"}
    tested = {(e["artifact"], e["python"]) for e in lines["test"]["include"]}
    assert {a for a, p in tested if p == "3.16"} == {a for a, _ in tested}  # every wheel on 3.16
