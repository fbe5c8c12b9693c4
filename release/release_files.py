"""The release's files in docs/releasing.md and README.md: counts and tables from the manifest.

Each document holds one generated block between ``<!-- release-files:begin ... -->`` and
``<!-- release-files:end -->``; ``python -m release compliance`` rewrites it and rule
``release-files-documented`` fails ``compliance --check`` when it is stale, so no count, file
list or which-wheel table describing the release is written by hand.
"""

from __future__ import annotations

import re

from release.contract import Contract, WheelTest, version_key
from release.manifest import free_threaded_names, full_manifest, sdist_name, wheel_name
from release.project import Project

BEGIN = (
    "<!-- release-files:begin (generated from the manifest by `python -m release compliance`) -->"
)
END = "<!-- release-files:end -->"
BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?\n" + re.escape(END), re.S)
#: A stand-in version: the names are shown for any ``X.Y.Z``.
VERSION = "0.0.0"


def counts(project: Project, contract: Contract) -> tuple[int, int, int]:
    """How many files a release has: in all, abi3 wheels, free-threaded wheels."""
    free = len(free_threaded_names(project, contract, VERSION))
    return len(full_manifest(project, contract, VERSION)), len(contract.targets), free


def _tested(test: WheelTest) -> str:
    where = test.runner + (" under QEMU" if test.via == "qemu" else "")
    image = {"debian": "slim", "alpine": "alpine"}.get(test.container)
    return where + (f" in a `python:3.X-{image}` container" if image else "")


def _which_wheel(contract: Contract, prefix: str) -> list[str]:
    """Rows of "your Python -> the wheel you get" (``prefix`` starts each file name)."""
    pythons = sorted(contract.pythons, key=version_key)
    span = f"{pythons[0]}\u2013{pythons[-1]}"  # an en dash, as in the prose
    rows = [f"| CPython {span} (GIL) | `{prefix}-{contract.python_tag}-abi3-<platform>.whl` |"]
    ft = contract.free_threaded
    for python, abi in zip(ft.pythons, ft.abis, strict=True):
        wheel = f"{prefix}-{abi.removesuffix('t')}-{abi}-<platform>.whl"
        rows.append(f"| CPython {python}t | `{wheel}` |")
    major, minor = pythons[-1].split(".")
    return [*rows, f"| CPython {major}.{int(minor) + 1}t and later, or a platform not listed "
            "| the sdist (needs a Rust toolchain) |"]  # fmt: skip


def _releasing(project: Project, contract: Contract) -> str:
    total, abi3, free = counts(project, contract)
    ft = contract.free_threaded
    rows = [
        f"For version `X.Y.Z`, exactly these {total} files (`python -m release manifest` prints "
        f"them): {abi3} abi3 wheels, each tested on CPython {', '.join(contract.pythons)}; "
        f"{free} free-threaded wheels (CPython {', '.join(f'{p}t' for p in ft.pythons)}), each "
        "built and tested by cibuildwheel on its runner; and the sdist.",
        "",
        "| file | built on | tested on |",
        "|---|---|---|",
    ]
    for t in contract.targets:
        name = "…" + wheel_name(project, contract, VERSION, t.platform_tag).split(VERSION, 1)[1]
        level = t.manylinux if str(t.manylinux).startswith("musl") else f"manylinux_{t.manylinux}"
        built = t.runner + (f", {level} container" if t.manylinux else "")
        rows.append(f"| `{name}` | {built} | {'; '.join(_tested(w) for w in t.tests)} |")
    for target in ft.targets:
        for abi in ft.abis:
            for tag in target.platform_tags:
                name = f"…-{abi.removesuffix('t')}-{abi}-{tag}.whl"
                rows.append(f"| `{name}` | {target.runner} (cibuildwheel) | the same job |")
    sdist = sdist_name(project, VERSION).replace(VERSION, "X.Y.Z")
    rows.append(f"| `{sdist}` | ubuntu-24.04 | a wheel built from it, on ubuntu-24.04 |")
    rows += ["", "Which wheel an installer picks:", "", "| interpreter (`python -VV`) | wheel |",
             "|---|---|", *_which_wheel(contract, "…")]  # fmt: skip
    return "\n".join(rows)


def _readme(project: Project, contract: Contract) -> str:
    total, abi3, free = counts(project, contract)
    prefix = wheel_name(project, contract, VERSION, "x").split(f"-{VERSION}-")[0] + "-<version>"
    return "\n".join([
        f"A release is {total} files: {abi3} abi3 wheels, {free} free-threaded wheels and the "
        "sdist ([docs/releasing.md](docs/releasing.md) lists them).",
        "",
        "| your Python | the wheel you get |",
        "|---|---|",
        *_which_wheel(contract, prefix),
    ])  # fmt: skip


def blocks(project: Project, contract: Contract) -> dict[str, str]:
    """Document path -> its generated block's body."""
    return {
        "docs/releasing.md": _releasing(project, contract),
        "README.md": _readme(project, contract),
    }


def replaced(text: str, body: str) -> str:
    """``text`` with its block's body replaced by ``body`` (unchanged when it has no block)."""
    return BLOCK.sub(lambda _: f"{BEGIN}\n{body}\n{END}", text, count=1)


def problems(project: Project, contract: Contract) -> list[str]:
    """Each document whose block is missing or stale."""
    return [
        f"{doc}: the release-files block is missing or stale (run `release compliance`)"
        for doc, body in blocks(project, contract).items()
        if f"{BEGIN}\n{body}\n{END}" not in project.text(doc)
    ]
