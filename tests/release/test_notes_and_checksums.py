"""Release notes from CHANGELOG.md, ``check-tag`` requiring them, and SHA256SUMS."""

from __future__ import annotations

from pathlib import Path

import pytest

from release import changelog, check_tag, checksums
from release.__main__ import main
from release.errors import ReleaseError
from release.project import Project

CHANGES = """# Changelog

## [Unreleased]

## [1.1.0] - 2026-12-01

### Fixed

- a bug

## [1.0.0] - 2026-11-01

- first

[1.1.0]: https://example.org/1.1.0
"""


def test_entry_is_the_version_section_only() -> None:
    assert changelog.entry(CHANGES, "1.1.0") == "### Fixed\n\n- a bug\n"
    assert changelog.entry(CHANGES, "1.0.0") == "- first\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CHANGES, "no entry"),
        ("## [2.0.0]\n\n- undated\n", "no date"),
        ("## [2.0.0] - 2026-12-02\n\n## [1.0.0] - 2026-11-01\n- x\n", "empty"),
    ],
)
def test_missing_undated_or_empty_entry_fails(text: str, message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        changelog.entry(text, "2.0.0")


def test_check_tag_requires_the_entry(repo_copy: Path) -> None:
    project = Project(repo_copy)
    tag = f"v{project.version}"
    assert check_tag.problems(tag, project) == []
    path = repo_copy / "CHANGELOG.md"
    path.write_text(path.read_text().replace(f"## [{project.version}]", "## [9.9.9]"))
    assert any("CHANGELOG.md has no entry" in p for p in check_tag.problems(tag, project))


def test_notes_command_writes_the_entry(repo_copy: Path, tmp_path: Path) -> None:
    project = Project(repo_copy)
    out = tmp_path / "notes.md"
    assert (
        main(["--root", str(repo_copy), "notes", f"v{project.version}", "--output", str(out)]) == 0
    )
    assert out.read_text() == changelog.release_notes(project, project.version)


def test_checksums_round_trip_and_mismatch(repo_copy: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / "web_transport_python-1.0.0-cp312-abi3-win_arm64.whl"
    sdist = dist / "web_transport_python-1.0.0.tar.gz"
    wheel.write_bytes(b"wheel")
    sdist.write_bytes(b"sdist")
    (dist / "notes.txt").write_text("not a release file")
    assert main(["--root", str(repo_copy), "checksums", str(dist)]) == 0
    text = (dist / checksums.FILE_NAME).read_text()
    assert [line.split("  ")[1] for line in text.splitlines()] == [wheel.name, sdist.name]
    sums = checksums.parse(text)
    checksums.check(wheel, sums)
    sdist.write_bytes(b"tampered")
    with pytest.raises(ReleaseError, match="differs"):
        checksums.check(sdist, sums)
    verify = ["--root", str(repo_copy), "verify", "--no-sigstore"]
    assert main([*verify, "--checksums", str(dist / checksums.FILE_NAME), str(wheel)]) == 0
    assert main([*verify, "--checksums", str(dist / checksums.FILE_NAME), str(sdist)]) == 1
