"""Fixtures for the release toolkit's tests: a temporary copy of the repository's release
inputs, so a test can break one thing and see exactly which rule notices.

These tests need the ``release`` dependency group, which the ``dev`` group includes: the
README's ``uv run pytest`` collects them, and ``.ci/release-gates`` runs them as
``uv run --only-group release pytest --confcutdir=tests/release tests/release``. They need no
network (local indexes only listen on 127.0.0.1). In an environment without that group they
are not collected.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from release_edits import REPO

#: The repository files the compliance rules read.
RELEASE_INPUTS = (
    "Cargo.toml",
    "Cargo.lock",
    "uv.lock",
    "pyproject.toml",
    "rust-toolchain.toml",
    "src/lib.rs",
    "python/web_transport/__init__.py",
    "MATURIN_COMPLIANCE.md",
    "release/contract.toml",
    "CHANGELOG.md",
    "noxfile.py",
    ".ci/nox",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".github/workflows/docs.yml",
    ".github/zizmor.yml",
    ".github/dependabot.yml",
    ".github/build-constraints.txt",
    "docs/releasing.md",
    "README.md",
)

if importlib.util.find_spec("sigstore") is None or importlib.util.find_spec("yaml") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A temporary directory holding a copy of every file the rules read."""
    for relative in RELEASE_INPUTS:
        source = REPO / relative
        if source.exists():
            target = tmp_path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return tmp_path
