"""``check-installs``: install classification, wheel tags per runner, and the lock walk."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from release_edits import REPO

from release.check_installs import (
    Install,
    Lock,
    PackageSet,
    Report,
    Unclassified,
    check_offline,
    classify,
    supported_tags,
    uv_platform,
)

#: A lock whose group ``tools`` pulls ``native`` (no win_arm64 wheel, abi3 only) through
#: ``pure``, plus ``winonly`` on Windows only.
LOCK = textwrap.dedent("""
    version = 1
    [[package]]
    name = "proj"
    source = { editable = "." }
    [package.dev-dependencies]
    tools = [{ name = "pure" }, { name = "winonly", marker = "sys_platform == 'win32'" }]

    [[package]]
    name = "pure"
    version = "1.0"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [{ name = "native" }]
    wheels = [{ url = "https://x/pure-1.0-py3-none-any.whl" }]

    [[package]]
    name = "native"
    version = "2.0"
    source = { registry = "https://pypi.org/simple" }
    wheels = [
        { url = "https://x/native-2.0-cp311-abi3-win_amd64.whl" },
        { url = "https://x/native-2.0-cp311-abi3-manylinux_2_28_x86_64.whl" },
    ]

    [[package]]
    name = "winonly"
    version = "3.0"
    source = { registry = "https://pypi.org/simple" }
    wheels = [{ url = "https://x/winonly-3.0-py3-none-win_amd64.whl" }]
""")


def _findings(platform: str, python: str = "3.12") -> list[str]:
    report = Report()
    install = Install("job j", "runner", platform, python, PackageSet(("tools",)))
    check_offline(install, Lock(LOCK), report)
    return report.findings


def test_a_package_lacking_win_arm64_fails_naming_package_and_tag() -> None:
    found = _findings("win_arm64")
    assert len(found) == 2  # native, and winonly (the marker holds on Windows)
    assert any("native 2.0 has no wheel for cp312-cp312-win_arm64" in f for f in found)
    assert all(f.startswith("job j on runner (win_arm64, Python 3.12)") for f in found)


def test_markers_and_abi3_are_honoured() -> None:
    assert _findings("win_amd64") == []
    assert _findings("manylinux_2_39_x86_64") == []  # winonly's marker is false on Linux


def test_abi3_does_not_serve_a_free_threaded_python() -> None:
    (found,) = _findings("manylinux_2_28_x86_64", "3.14t")
    assert "native 2.0 has no wheel for cp314-cp314t-manylinux_2_28_x86_64" in found


def test_tags_accept_older_glibc_and_macos_and_reject_newer() -> None:
    from packaging.tags import Tag

    tags = supported_tags("3.12", "manylinux_2_28_x86_64")
    assert Tag("cp312", "cp312", "manylinux2014_x86_64") in tags
    assert Tag("cp312", "cp312", "manylinux_2_34_x86_64") not in tags
    assert Tag("py3", "none", "macosx_11_0_arm64") in supported_tags("3.12", "macosx_15_0_arm64")
    assert uv_platform("musllinux_1_2_aarch64") == "aarch64-unknown-linux-musl"
    assert uv_platform("win_arm64") == "aarch64-pc-windows-msvc"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("uv run --no-project python -m release test-requirements t.txt", PackageSet()),
        ("uv run --locked --only-group release python -m release inspect dist",
         PackageSet(("release",))),
        ("uv run --group lint ruff check", PackageSet(("dev", "lint"), (), True)),
        ("uv run --no-project --with 'ty==0.1' ty check", PackageSet((), ("ty==0.1",))),
        ("pip install --require-hashes --only-binary :all: -r {project}/test-requirements.txt",
         PackageSet(("test",))),
        ("cd x && uvx zizmor .github", PackageSet((), ("zizmor",))),
        ("uv --version && mkdir -p dist", PackageSet()),
    ],
)  # fmt: skip
def test_commands_are_classified(command: str, expected: PackageSet) -> None:
    assert classify(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "uvx nox -s lint",
        "pipx install x",
        "uv run --frob x",
        "pip install -r other.txt",
        "uv build",
    ],
)
def test_an_install_it_cannot_read_fails_loudly(command: str) -> None:
    with pytest.raises(Unclassified):
        classify(command)


def test_test_requirements_imports_only_the_standard_library() -> None:
    # The free-threaded job runs it under `uv run --no-project` on every cibuildwheel runner.
    probe = (
        "import sys; from release.__main__ import build_parser; "
        "build_parser(['test-requirements', 'x']); import release.suite_requirements; "
        "names = {m.split('.')[0] for m in sys.modules} - {'__main__'}; "
        "print(sorted(names - set(sys.stdlib_module_names)))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['release']"


def test_a_nox_session_installs_nox_and_what_noxfile_declares() -> None:
    nox = {
        "": PackageSet(requirements=("nox==1",)),
        "tests": PackageSet(("dev",), (), True),
        "rust": PackageSet(),
    }
    assert classify(".ci/nox -s tests-3.13", nox=nox) == PackageSet(("dev",), ("nox==1",), True)
    assert classify(".ci/nox --list --json | jq .", nox=nox) == PackageSet((), ("nox==1",))
    with pytest.raises(Unclassified):
        classify(".ci/nox -s docs", nox=nox)
