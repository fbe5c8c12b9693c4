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


@pytest.mark.parametrize(
    ("via", "container", "image", "platform"),
    [
        ("native", "alpine", "python:3.15-alpine", None),
        ("qemu", "debian", "python:3.15-slim", "linux/arm64"),
        ("qemu", "none", "python:3.15-slim", "linux/arm64"),
    ],
)
def test_container_runs_use_the_official_image_and_the_locked_requirements(
    monkeypatch: pytest.MonkeyPatch, via: str, container: str, image: str, platform: str | None
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(installed.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(installed, "run", lambda cmd, **kw: commands.append(list(map(str, cmd))))
    dist = REPO / "target" / "dist-for-container-test"
    args = argparse.Namespace(
        dist=str(dist), python="3.15", version="0.1.0", expect_machine="aarch64",
        via=via, container=container,
    )  # fmt: skip
    assert installed._in_container(args, Project(REPO)) == 0
    (docker,) = [c for c in commands if c[0] == "/usr/bin/docker"]
    assert image in docker
    assert ("--platform" in docker) is (platform is not None)
    if platform:
        assert docker[docker.index("--platform") + 1] == platform
    inner = docker[docker.index(image) + 1 :]
    assert inner[:4] == ["python", "-m", "release", "test-installed"]
    assert inner[inner.index("--requirements") + 1].startswith("/locked/")
    assert "--via" not in inner  # the inner run is native inside the container
