"""``verify``: the expected identity, and failures on missing or invalid bundles.

A positive verification needs a bundle made by the release workflow on GitHub, which cannot
exist before the first release; the sign job runs ``release verify`` on real bundles.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from release import verify
from release.__main__ import main


def test_identity_is_the_release_workflow_at_the_tag() -> None:
    assert verify.identity("o/r", "v1.2.3") == (
        "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.2.3"
    )
    assert verify.ISSUER == "https://token.actions.githubusercontent.com"


def test_version_from_file_names() -> None:
    assert (
        verify.version_from_name("web_transport_python-1.2.3-cp312-abi3-win_amd64.whl") == "1.2.3"
    )
    assert verify.version_from_name("web_transport_python-1.2.3.tar.gz") == "1.2.3"


def test_missing_bundle_fails(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = tmp_path / "web_transport_python-0.1.0.tar.gz"
    artifact.write_bytes(b"x")
    assert main(["--root", str(repo_copy), "verify", "--offline", str(artifact)]) == 1
    assert "no bundle" in capsys.readouterr().err


def test_invalid_bundle_fails(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = tmp_path / "web_transport_python-0.1.0.tar.gz"
    artifact.write_bytes(b"x")
    (tmp_path / (artifact.name + ".sigstore.json")).write_text('{"mediaType": "nope"}')
    assert main(["--root", str(repo_copy), "verify", "--offline", str(artifact)]) == 1
    assert "not a valid Sigstore bundle" in capsys.readouterr().err


def test_pep740_and_github_checks_target_the_release_workflow() -> None:
    assert verify.provenance_url(
        "https://pypi.org", "web-transport-python", "1.2.3", "x-1.2.3.tar.gz"
    ) == ("https://pypi.org/integrity/web-transport-python/1.2.3/x-1.2.3.tar.gz/provenance")
    command = verify.github_command("gh", Path("a.whl"), "o/r", "v1.2.3")
    assert command[:4] == ["gh", "attestation", "verify", "a.whl"]
    assert "o/r/.github/workflows/release.yml" in command
    assert "refs/tags/v1.2.3" in command


def test_unreachable_index_fails_the_pep740_check(
    repo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = tmp_path / "web_transport_python-0.1.0.tar.gz"
    artifact.write_bytes(b"x")
    args = ["--root", str(repo_copy), "verify", "--no-sigstore", "--offline"]
    assert main([*args, "--pypi-url", "http://127.0.0.1:9", str(artifact)]) == 1
    assert "no PEP 740 provenance" in capsys.readouterr().err
