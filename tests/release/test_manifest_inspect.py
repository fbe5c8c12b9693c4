"""``manifest`` and ``inspect``: exact artifact names, and one line per finding."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_wheel import build_fake_wheel

from release import inspect_dist, manifest
from release.__main__ import main
from release.contract import load_contract
from release.project import Project


def _full(root: Path) -> list[str]:
    project = Project(root)
    return manifest.full_manifest(project, load_contract(project), project.version)


def test_manifest_lists_one_wheel_per_target_and_the_sdist(repo_copy: Path) -> None:
    version = Project(repo_copy).version
    names = _full(repo_copy)
    assert names == [
        f"web_transport_python-{version}-cp312-abi3-macosx_10_12_universal2.macosx_10_12_x86_64"
        ".macosx_11_0_arm64.whl",
        f"web_transport_python-{version}-cp312-abi3-manylinux_2_28_aarch64.whl",
        f"web_transport_python-{version}-cp312-abi3-manylinux_2_28_x86_64.whl",
        f"web_transport_python-{version}-cp312-abi3-musllinux_1_2_aarch64.whl",
        f"web_transport_python-{version}-cp312-abi3-musllinux_1_2_x86_64.whl",
        f"web_transport_python-{version}-cp312-abi3-win_amd64.whl",
        f"web_transport_python-{version}-cp312-abi3-win_arm64.whl",
        f"web_transport_python-{version}-cp314-cp314t-macosx_10_15_x86_64.whl",
        f"web_transport_python-{version}-cp314-cp314t-macosx_11_0_arm64.whl",
        f"web_transport_python-{version}-cp314-cp314t-manylinux_2_28_aarch64.whl",
        f"web_transport_python-{version}-cp314-cp314t-manylinux_2_28_x86_64.whl",
        f"web_transport_python-{version}-cp314-cp314t-musllinux_1_2_aarch64.whl",
        f"web_transport_python-{version}-cp314-cp314t-musllinux_1_2_x86_64.whl",
        f"web_transport_python-{version}-cp314-cp314t-win_amd64.whl",
        f"web_transport_python-{version}-cp314-cp314t-win_arm64.whl",
        f"web_transport_python-{version}-cp315-cp315t-macosx_10_15_x86_64.whl",
        f"web_transport_python-{version}-cp315-cp315t-macosx_11_0_arm64.whl",
        f"web_transport_python-{version}-cp315-cp315t-manylinux_2_28_aarch64.whl",
        f"web_transport_python-{version}-cp315-cp315t-manylinux_2_28_x86_64.whl",
        f"web_transport_python-{version}-cp315-cp315t-musllinux_1_2_aarch64.whl",
        f"web_transport_python-{version}-cp315-cp315t-musllinux_1_2_x86_64.whl",
        f"web_transport_python-{version}-cp315-cp315t-win_amd64.whl",
        f"web_transport_python-{version}-cp315-cp315t-win_arm64.whl",
        f"web_transport_python-{version}.tar.gz",
    ]


def test_manifest_command_prints_the_names(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(repo_copy), "manifest", "--version", "2.0.0"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 24  # 7 abi3 + 8 cp314t + 8 cp315t wheels + the sdist
    assert all("-2.0.0" in line for line in lines)


def test_platform_tags_are_written_sorted_like_maturin() -> None:
    assert manifest.canonical_platform_tag("b.a.c") == "a.b.c"


UNIVERSAL2 = "macosx_10_12_universal2.macosx_10_12_x86_64.macosx_11_0_arm64"


@pytest.mark.parametrize(
    ("present_tag", "matches"),
    [
        (UNIVERSAL2, True),
        ("macosx_11_0_arm64.macosx_10_12_x86_64.macosx_10_12_universal2", True),  # reordered
        ("macosx_10_12_x86_64.macosx_10_12_universal2", False),  # a tag missing
        (UNIVERSAL2 + ".macosx_10_9_x86_64", False),  # an extra tag
    ],
)
def test_wheels_compare_by_tag_set(present_tag: str, matches: bool) -> None:
    expected = [f"web_transport_python-1.0.0-cp312-abi3-{UNIVERSAL2}.whl"]
    present = [f"web_transport_python-1.0.0-cp312-abi3-{present_tag}.whl"]
    result = manifest.compare(expected, present)
    assert result.ok is matches
    if not matches:
        assert result.missing == tuple(expected)
        assert result.unexpected == tuple(present)


def test_two_spellings_of_one_wheel_are_one_too_many() -> None:
    wheel = f"web_transport_python-1.0.0-cp312-abi3-{UNIVERSAL2}.whl"
    reordered = wheel.replace(UNIVERSAL2, ".".join(reversed(UNIVERSAL2.split("."))))
    result = manifest.compare([wheel], [wheel, reordered])
    assert result.missing == ()
    assert len(result.unexpected) == 1


def _dist_with(tmp_path: Path, names: list[str]) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in names:
        (dist / name).write_bytes(b"")
    return dist


def test_exact_manifest_passes(repo_copy: Path, tmp_path: Path) -> None:
    dist = _dist_with(tmp_path, _full(repo_copy))
    assert main(["--root", str(repo_copy), "inspect", str(dist), "--manifest-only"]) == 0


def test_missing_and_unexpected_files_fail_one_line_each(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = _full(repo_copy)
    dist = _dist_with(tmp_path, [*names[1:], "stray.whl.sigstore.json"])
    assert main(["--root", str(repo_copy), "inspect", str(dist), "--manifest-only"]) == 1
    fails = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    assert fails == [
        f"FAIL manifest {names[0]}: expected but missing",
        "FAIL manifest stray.whl.sigstore.json: not in the manifest",
    ]


def test_host_only_accepts_the_sdist_and_one_installable_wheel(
    repo_copy: Path, tmp_path: Path
) -> None:
    project = Project(repo_copy)
    contract = load_contract(project)
    version = project.version
    from packaging.tags import sys_tags

    host = next(iter(sys_tags())).platform
    wheel = f"web_transport_python-{version}-cp312-abi3-{host}.whl"
    sdist = manifest.sdist_name(project, version)
    ok = manifest.compare_host(project, contract, version, [wheel, sdist])
    assert ok.ok, ok
    foreign = f"web_transport_python-{version}-cp312-abi3-win_arm64.whl"
    bad = manifest.compare_host(project, contract, version, [foreign, sdist])
    assert bad.missing
    assert bad.unexpected == (foreign,)


def test_metadata_checker_reports_wrong_tags_and_missing_extension(
    repo_copy: Path, tmp_path: Path
) -> None:
    project = Project(repo_copy)
    wheel = build_fake_wheel(tmp_path, project.version)
    findings = inspect_dist.check_wheel_metadata(
        wheel, project, load_contract(project), project.version
    )
    messages = " | ".join(f.message for f in findings)
    assert "WHEEL tag py3-none-any is not cp312-abi3" in messages
    assert "no abi3 extension module" in messages


def test_metadata_checker_holds_a_cp315t_wheel_to_cp315t(repo_copy: Path, tmp_path: Path) -> None:
    project = Project(repo_copy)
    wheel = build_fake_wheel(tmp_path, project.version, "cp315-cp315t-win_amd64")
    findings = inspect_dist.check_wheel_metadata(
        wheel, project, load_contract(project), project.version
    )
    # The tag is right for a cp315t wheel; the stand-in's pure-Python module is not a
    # cp315t extension.
    assert [f.message for f in findings] == ["no cp315t extension module under web_transport/"]


def test_metadata_checker_holds_every_wheel_to_the_pinned_maturin_and_no_bundled_dll(
    repo_copy: Path, tmp_path: Path
) -> None:
    project = Project(repo_copy)
    wheel = build_fake_wheel(
        tmp_path, project.version, "cp315-cp315t-win_amd64", generator="maturin (1.17.0)",
        extra={"web_transport_python.libs/msvcp140-abc.dll": b"MZ"},
    )  # fmt: skip
    messages = [
        f.message
        for f in inspect_dist.check_wheel_metadata(
            wheel, project, load_contract(project), project.version
        )
    ]
    assert "WHEEL Generator is 'maturin (1.17.0)', expected 'maturin (1.16.0)'" in messages
    assert any("bundled libraries" in m and "msvcp140-abc.dll" in m for m in messages)


def test_manylinux_levels() -> None:
    assert inspect_dist._manylinux("manylinux_2_28_x86_64") == ("manylinux", 2, 28)
    assert inspect_dist._manylinux("manylinux2014_aarch64") == ("manylinux", 2, 17)
    assert inspect_dist._manylinux("musllinux_1_2_aarch64") == ("musllinux", 1, 2)
    assert inspect_dist._manylinux("linux_x86_64") is None
