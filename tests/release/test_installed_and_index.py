"""``test-installed`` and the rehearsal's local index, end to end on a stand-in wheel.

The stand-in is pure Python, so no Rust build is needed; the copy of the repository has no
test suites, so the import smoke test is all that runs (and the output says so).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_wheel import build_fake_wheel
from release_edits import REPO

from release import installed
from release.errors import ReleaseError
from release.index_server import LocalIndex
from release.project import Project

pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")

PYTHON = "{}.{}".format(*sys.version_info[:2])


def _args(**values: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "dist": None, "index_url": None, "python": PYTHON, "expect_machine": None,
        "via": "native", "attempts": 1,
    }  # fmt: skip
    return argparse.Namespace(**{**defaults, **values})


def test_install_from_a_directory_proves_site_packages(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(repo_copy)
    dist = tmp_path / "dist"
    dist.mkdir()
    build_fake_wheel(dist, project.version)
    installed.install_and_test(_args(dist=str(dist), version=project.version), project)
    out = capsys.readouterr().out
    assert "(site-packages)" in out
    assert "ran the import smoke test only" in out


def test_wrong_version_or_machine_fails(repo_copy: Path, tmp_path: Path) -> None:
    project = Project(repo_copy)
    dist = tmp_path / "dist"
    dist.mkdir()
    build_fake_wheel(dist, "9.9.9")
    with pytest.raises(ReleaseError):
        installed.install_and_test(_args(dist=str(dist), version="9.9.8"), project)
    with pytest.raises(ReleaseError, match="expected sparc"):
        installed.install_and_test(
            _args(dist=str(dist), version="9.9.9", expect_machine="sparc"), project
        )


def test_local_index_upload_and_exact_install(repo_copy: Path, tmp_path: Path) -> None:
    project = Project(repo_copy)
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = build_fake_wheel(dist, project.version)
    with LocalIndex(tmp_path / "index", tmp_path / "pypiserver.log") as index:
        assert index.url.startswith("http://127.0.0.1:")
        subprocess.run(
            [sys.executable, "-m", "twine", "upload", "--non-interactive",
             "--repository-url", index.url, "-u", "x", "-p", "x", str(wheel)],
            check=True, timeout=120, capture_output=True,
        )  # fmt: skip
        installed.install_and_test(
            _args(index_url=index.simple_url, version=project.version), project
        )
        with pytest.raises(ReleaseError):
            installed.install_and_test(_args(index_url=index.simple_url, version="0.0.1"), project)
    assert index.process is not None
    assert index.process.poll() is not None


def test_locked_test_requirements_are_the_test_group_with_hashes(tmp_path: Path) -> None:
    from release.suite_requirements import export_locked

    text = export_locked(Project(REPO), tmp_path).read_text(encoding="utf-8")
    pinned = {
        line.split("==")[0]
        for line in text.splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    assert {"pytest", "pytest-asyncio", "pytest-timeout"} <= pinned
    # Only what tests/unit and tests/integration import: no dev-only tools.
    assert not pinned & {"aioquic", "hypothesis", "pyyaml", "ruff", "playwright", "selenium"}
    assert "--hash=sha256:" in text
    assert "web-transport" not in text
