"""``release matrix``: the workflow's matrices are the contract, entry for entry."""

from __future__ import annotations

import json
from pathlib import Path

from release import matrix
from release.__main__ import main
from release.contract import load_contract
from release.project import Project


def test_build_matrix_is_one_entry_per_target(repo_copy: Path) -> None:
    contract = load_contract(Project(repo_copy))
    include = matrix.matrices(contract)["build"]["include"]
    assert [e["id"] for e in include] == [t.id for t in contract.targets]
    by_id = {e["id"]: e for e in include}
    assert by_id["musllinux-aarch64"]["manylinux"] == "musllinux_1_2"
    assert by_id["windows-arm64"]["runner"] == "windows-11-arm"
    assert by_id["macos-universal2"]["macos-deployment-target"] == "10.12"


def test_test_matrix_is_every_python_at_every_test_run(repo_copy: Path) -> None:
    contract = load_contract(Project(repo_copy))
    include = matrix.matrices(contract)["test"]["include"]
    runs = sum(len(t.tests) for t in (*contract.targets, contract.sdist_wheel))
    assert len(include) == runs * len(contract.pythons)
    aarch64 = {
        (e["runner"], e["via"], e["container"])
        for e in include
        if e["artifact"] == "dist-linux-aarch64" and e["python"] == "3.15"
    }
    assert aarch64 == {("ubuntu-24.04-arm", "native", "none"), ("ubuntu-24.04", "qemu", "debian")}
    assert {e["container"] for e in include if "musllinux" in e["artifact"]} == {"alpine"}


def test_github_output_lines(repo_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    assert main(["--root", str(repo_copy), "matrix", "--github-output", str(out)]) == 0
    lines = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert set(lines) == {"build", "test", "smoke", "free_threaded"}
    ft = json.loads(lines["free_threaded"])["include"]
    assert {e["runner"] for e in ft} >= {"ubuntu-24.04-arm", "windows-11-arm", "macos-15-intel"}
    assert {e["build"] for e in ft} == {"cp314t-* cp315t-*"}
    assert json.loads(lines["smoke"]) == {"python": ["3.12", "3.13", "3.14", "3.15"]}
