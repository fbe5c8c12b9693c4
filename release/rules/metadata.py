"""Rules on package metadata: the single version, requires-python, abi3 and classifiers."""

from __future__ import annotations

import re

from release.project import INIT_PY, LIB_RS, PYPROJECT
from release.rules.base import Context, failing, rules


def version_single_source(ctx: Context) -> list[str]:
    """Cargo.toml [package].version is the only version: pyproject.toml declares it dynamic, the
    extension sets __version__ from CARGO_PKG_VERSION, __init__.py hard-codes none, Cargo.lock
    agrees"""
    project = ctx.project
    version, locked = project.version, project.cargo_lock_version()
    pyproject = project.pyproject.get("project", {})
    return failing(
        ("version" not in pyproject, f"{PYPROJECT} sets a static [project].version"),
        ("version" in pyproject.get("dynamic", []), f"{PYPROJECT} version is not dynamic"),
        ('env!("CARGO_PKG_VERSION")' in project.text(LIB_RS),
         f"{LIB_RS} does not set __version__ from CARGO_PKG_VERSION"),
        (not re.search(r"(?m)^\s*__version__\s*=\s*['\"]", project.text(INIT_PY)),
         f"{INIT_PY} hard-codes __version__"),
        (locked == version, f"Cargo.lock records {project.crate_name} {locked}, not {version}"),
    )  # fmt: skip


def metadata_requires_python(ctx: Context) -> list[str]:
    """requires-python is >= the oldest contract Python"""
    expected = f">={ctx.contract.min_python}"
    actual = ctx.project.pyproject.get("project", {}).get("requires-python")
    if actual != expected:
        return [f"requires-python is {actual!r}, contract says {expected!r}"]
    return []


def metadata_abi3(ctx: Context) -> list[str]:
    """pyo3's only abi3 feature is abi3-py<oldest contract Python>"""
    contract = ctx.contract
    if contract.abi != "abi3":
        return [f"contract abi is {contract.abi!r}; the toolkit only releases abi3 wheels"]
    pyo3 = ctx.project.cargo.get("dependencies", {}).get("pyo3", {})
    features = pyo3.get("features", []) if isinstance(pyo3, dict) else []
    expected = "abi3-py" + contract.min_python.replace(".", "")
    abi3 = [f for f in features if f.startswith("abi3")]
    if abi3 != [expected]:
        return [f"pyo3 abi3 features are {abi3}, contract needs [{expected!r}]"]
    return []


def metadata_classifiers(ctx: Context) -> list[str]:
    """Python version classifiers equal the contract's Pythons, plus '3 :: Only'"""
    listed = ctx.project.pyproject.get("project", {}).get("classifiers", [])
    versions = sorted(
        c.rsplit("::", 1)[1].strip()
        for c in listed
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    only = "Programming Language :: Python :: 3 :: Only"
    return failing(
        (versions == sorted(ctx.contract.pythons), f"classifiers list Python {versions}, not "
                                                   f"the contract's {list(ctx.contract.pythons)}"),
        (only in listed, f"missing classifier {only!r}"),
    )  # fmt: skip


#: The [project.urls] labels PyPI shows (and verifies against the trusted publisher).
URL_LABELS = ("Homepage", "Source", "Documentation", "Issues", "Changelog")


def metadata_urls(ctx: Context) -> list[str]:
    """[project.urls] has Homepage, Source, Documentation, Issues and Changelog; Source is the
    GitHub repository whose workflow signs (the Sigstore identity)"""
    urls = ctx.project.pyproject.get("project", {}).get("urls", {})
    found = [f"[project.urls] lacks {label}" for label in URL_LABELS if label not in urls]
    source = str(urls.get("Source", ""))
    repository = ctx.project.repository
    if source.rstrip("/") != f"https://github.com/{repository}":
        found.append(f"[project.urls] Source {source!r} is not https://github.com/{repository}")
    return found


RULES = rules(
    version_single_source,
    metadata_requires_python,
    metadata_abi3,
    metadata_classifiers,
    metadata_urls,
)
