"""Rules on package metadata: the single version, requires-python, abi3 and classifiers."""

from __future__ import annotations

import re

from release.project import INIT_PY, LIB_RS, PYPROJECT
from release.rules.base import Context, Rule


def version_single_source(ctx: Context) -> list[str]:
    """Cargo.toml holds the only version; everything else derives from it."""
    found: list[str] = []
    project = ctx.project
    version = project.version
    pyproject = project.pyproject.get("project", {})
    if "version" in pyproject:
        found.append(f"{PYPROJECT} sets a static [project].version")
    if "version" not in pyproject.get("dynamic", []):
        found.append(f'{PYPROJECT} [project].dynamic does not include "version"')
    if 'env!("CARGO_PKG_VERSION")' not in project.text(LIB_RS):
        found.append(f'{LIB_RS} does not set __version__ from env!("CARGO_PKG_VERSION")')
    if re.search(r"(?m)^\s*__version__\s*=\s*['\"]", project.text(INIT_PY)):
        found.append(f"{INIT_PY} hard-codes __version__")
    locked = project.cargo_lock_version()
    if locked != version:
        found.append(f"Cargo.lock records {project.crate_name} {locked}, Cargo.toml says {version}")
    return found


def requires_python(ctx: Context) -> list[str]:
    """requires-python is exactly ``>=`` the oldest supported Python."""
    expected = f">={ctx.contract.min_python}"
    actual = ctx.project.pyproject.get("project", {}).get("requires-python")
    if actual != expected:
        return [f"requires-python is {actual!r}, contract says {expected!r}"]
    return []


def abi3_feature(ctx: Context) -> list[str]:
    """The pyo3 abi3 feature matches the contract's ABI and floor."""
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


def classifiers(ctx: Context) -> list[str]:
    """The Python version classifiers list exactly the supported versions."""
    listed = ctx.project.pyproject.get("project", {}).get("classifiers", [])
    versions = sorted(
        c.rsplit("::", 1)[1].strip()
        for c in listed
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    found: list[str] = []
    if versions != sorted(ctx.contract.pythons):
        found.append(
            f"classifiers list Python {versions}, contract says {list(ctx.contract.pythons)}"
        )
    if "Programming Language :: Python :: 3 :: Only" not in listed:
        found.append("missing classifier 'Programming Language :: Python :: 3 :: Only'")
    return found


#: The [project.urls] labels PyPI shows (and verifies against the trusted publisher).
URL_LABELS = ("Homepage", "Source", "Documentation", "Issues", "Changelog")


def project_urls(ctx: Context) -> list[str]:
    """[project.urls] has every label, and Source names the GitHub repository that signs."""
    urls = ctx.project.pyproject.get("project", {}).get("urls", {})
    found = [f"[project.urls] lacks {label}" for label in URL_LABELS if label not in urls]
    source = str(urls.get("Source", ""))
    repository = ctx.project.repository
    if source.rstrip("/") != f"https://github.com/{repository}":
        found.append(f"[project.urls] Source {source!r} is not https://github.com/{repository}")
    return found


RULES = [
    Rule(
        "version-single-source",
        "Cargo.toml [package].version is the only version: pyproject.toml declares it dynamic, "
        "the extension sets __version__ from CARGO_PKG_VERSION, __init__.py hard-codes none, "
        "Cargo.lock agrees",
        version_single_source,
    ),
    Rule(
        "metadata-requires-python",
        "requires-python is >= the oldest contract Python",
        requires_python,
    ),
    Rule(
        "metadata-abi3",
        "pyo3's only abi3 feature is abi3-py<oldest contract Python>",
        abi3_feature,
    ),
    Rule(
        "metadata-classifiers",
        "Python version classifiers equal the contract's Pythons, plus '3 :: Only'",
        classifiers,
    ),
    Rule(
        "metadata-urls",
        "[project.urls] has Homepage, Source, Documentation, Issues and Changelog; Source is "
        "the GitHub repository whose workflow signs (the Sigstore identity)",
        project_urls,
    ),
]
