"""``version``, ``bump`` and ``check-tag``: one version, kept in Cargo.toml and Cargo.lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from release import bump, check_tag, compliance
from release.__main__ import main
from release.project import Project


def test_version_prints_cargo_version(repo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(repo_copy), "version"]) == 0
    assert capsys.readouterr().out.strip() == Project(repo_copy).version


@pytest.mark.parametrize(
    ("tag", "ok"),
    [("v0.1.0", True), ("refs/tags/v0.1.0", True), ("v0.1.1", False), ("0.1.0", False),
     ("v0.1", False), ("v0.1.0rc1", False)],
)  # fmt: skip
def test_check_tag(repo_copy: Path, tag: str, ok: bool) -> None:
    project = Project(repo_copy)
    version = project.version
    tag = tag.replace("0.1.0", version)
    assert (check_tag.problems(tag, project) == []) is ok
    assert main(["--root", str(repo_copy), "check-tag", tag]) == (0 if ok else 1)


def test_check_tag_requires_cargo_lock_to_agree(repo_copy: Path) -> None:
    project = Project(repo_copy)
    lock = repo_copy / "Cargo.lock"
    lock.write_text(bump.set_cargo_lock_version(lock.read_text(), project.crate_name, "9.9.9"))
    assert any("Cargo.lock" in p for p in check_tag.problems(f"v{project.version}", project))


def test_bump_sets_every_copy_and_regenerates_the_document(repo_copy: Path) -> None:
    project = Project(repo_copy)
    changes = repo_copy / "CHANGELOG.md"
    changes.write_text(
        changes.read_text().replace("## [Unreleased]\n", "## [Unreleased]\n\n- new\n")
    )
    assert main(["--root", str(repo_copy), "bump", "7.8.9"]) in (0, 1)
    assert "## [7.8.9] - " in changes.read_text()
    assert project.version == "7.8.9"
    assert project.cargo_lock_version() == "7.8.9"
    assert "web_transport_python-7.8.9.tar.gz" in (repo_copy / "MATURIN_COMPLIANCE.md").read_text()
    assert check_tag.problems("v7.8.9", project) == []
    assert (
        compliance.render(project, compliance.evaluate(project))
        == (repo_copy / "MATURIN_COMPLIANCE.md").read_text()
    )


def test_bump_rejects_non_release_versions(repo_copy: Path) -> None:
    assert main(["--root", str(repo_copy), "bump", "1.0"]) == 2
    assert main(["--root", str(repo_copy), "bump", "1.0.0-rc.1"]) == 2


def test_bump_touches_only_the_package_version() -> None:
    text = '[package]\nname = "x"\nversion = "0.1.0"\n\n[dependencies]\ny = { version = "1" }\n'
    assert bump.set_cargo_toml_version(text, "0.2.0") == text.replace('"0.1.0"', '"0.2.0"')
