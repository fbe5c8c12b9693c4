"""Facts read from the repository: its root, the single version (``[package].version`` in
Cargo.toml, which maturin and ``env!("CARGO_PKG_VERSION")`` pass on), names and files.
Nothing is cached, so a rule checking a modified copy sees the modification."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.errors import ReleaseError

CARGO_TOML = "Cargo.toml"
CARGO_LOCK = "Cargo.lock"
PYPROJECT = "pyproject.toml"
TOOLCHAIN = "rust-toolchain.toml"
LIB_RS = "src/lib.rs"
INIT_PY = "python/web_transport/__init__.py"
COMPLIANCE_DOC = "MATURIN_COMPLIANCE.md"
CHANGELOG = "CHANGELOG.md"
GITHUB_DIR = ".github"
WORKFLOWS_DIR = ".github/workflows"
DEPENDABOT = ".github/dependabot.yml"
ZIZMOR_CONFIG = ".github/zizmor.yml"

#: The repository slug used when ``[project.urls]`` names no GitHub repository.
DEFAULT_REPOSITORY = "web-transport-py/web-transport-py"


def find_root(start: Path | None = None) -> Path:
    """The nearest directory holding Cargo.toml and pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CARGO_TOML).is_file() and (candidate / PYPROJECT).is_file():
            return candidate
    raise ReleaseError(f"no Cargo.toml + pyproject.toml above {here}; pass --root")


def normalize_dist_name(name: str) -> str:
    """The distribution name as it appears in wheel and sdist file names (PEP 427/625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@dataclass(frozen=True)
class Project:
    """A view of one checkout (the real repository or a temporary copy of its files)."""

    root: Path

    def path(self, relative: str) -> Path:
        return self.root / relative

    def text(self, relative: str) -> str:
        """The text of a repository file; a missing file is a :class:`ReleaseError`."""
        try:
            return self.path(relative).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ReleaseError(f"missing {relative}") from exc

    def toml(self, relative: str) -> dict[str, Any]:
        """A repository TOML file, parsed."""
        try:
            return tomllib.loads(self.text(relative))
        except tomllib.TOMLDecodeError as exc:
            raise ReleaseError(f"{relative}: {exc}") from exc

    @property
    def cargo(self) -> dict[str, Any]:
        return self.toml(CARGO_TOML)

    @property
    def pyproject(self) -> dict[str, Any]:
        return self.toml(PYPROJECT)

    @property
    def crate_name(self) -> str:
        return str(self.cargo["package"]["name"])

    @property
    def version(self) -> str:
        """The single version: ``[package].version`` in Cargo.toml."""
        version = self.cargo.get("package", {}).get("version")
        if not isinstance(version, str):
            raise ReleaseError(f"{CARGO_TOML} has no [package].version string")
        return version

    @property
    def dist_name(self) -> str:
        return str(self.pyproject["project"]["name"])

    @property
    def import_name(self) -> str:
        """The top-level import package (the part of the module name before the first dot)."""
        module = self.pyproject.get("tool", {}).get("maturin", {}).get("module-name", "")
        return str(module).split(".")[0] or normalize_dist_name(self.dist_name)

    @property
    def repository(self) -> str:
        """``owner/name`` of the GitHub repository: from ``[project.urls]``, else the default."""
        urls = self.pyproject.get("project", {}).get("urls", {})
        for value in urls.values():
            match = re.match(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?$", str(value))
            if match:
                return match.group(1)
        return DEFAULT_REPOSITORY

    def cargo_lock_version(self) -> str | None:
        """The version Cargo.lock records for this crate, or None when it has no entry."""
        lock = self.toml(CARGO_LOCK)
        crate = self.crate_name
        for package in lock.get("package", []):
            if package.get("name") == crate and "source" not in package:
                return str(package.get("version"))
        return None

    def workflow_path(self, file_name: str) -> Path:
        return self.root / WORKFLOWS_DIR / file_name
