"""``check-published`` against a local pypiserver: same bytes pass, different bytes fail."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from fake_wheel import build_fake_wheel

from release import check_published
from release.index_server import LocalIndex
from release.project import Project


def test_matching_file_is_already_published_and_a_different_one_fails(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(repo_copy)
    served, dist = tmp_path / "served", tmp_path / "dist"
    served.mkdir()
    dist.mkdir()
    same = build_fake_wheel(served, project.version)
    shutil.copy2(same, dist / same.name)
    sdist = f"web_transport_python-{project.version}.tar.gz"
    (served / sdist).write_bytes(b"the bytes uploaded by the first run")
    (dist / sdist).write_bytes(b"the bytes a rebuild made")
    new = build_fake_wheel(dist, project.version, "cp312-abi3-win_amd64")
    with LocalIndex(served, tmp_path / "pypiserver.log") as index:
        published = check_published.published_hashes(index.simple_url, project.dist_name)
        assert set(published) == {same.name, sdist}
        args = argparse.Namespace(dist=dist, index_url=index.simple_url)
        assert check_published.main(args, project) == 1
        missing = check_published.published_hashes(index.simple_url, "no-such-project")
    out = capsys.readouterr().out
    assert f"already published, same sha256: {same.name}" in out
    assert f"not yet published: {new.name}" in out
    assert f"FAIL check-published {sdist}: the index holds different bytes" in out
    assert missing == {}
    (dist / sdist).write_bytes((served / sdist).read_bytes())
    assert check_published.compare(dist, published) == ([same.name, sdist], [], [new.name])
