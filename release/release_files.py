"""The release's file counts and file table in docs/releasing.md and README.md, from the manifest.

Each document holds one generated block between ``<!-- release-files:begin ... -->`` and
``<!-- release-files:end -->``; ``python -m release compliance`` rewrites it and rule
``release-files-documented`` fails ``compliance --check`` when it is stale, so no count or
file list describing the release is written by hand.
"""

from __future__ import annotations

import re

from release.contract import Contract, WheelTest
from release.manifest import free_threaded_names, full_manifest, sdist_name, wheel_name
from release.project import Project

BEGIN = (
    "<!-- release-files:begin (generated from the manifest by `python -m release compliance`) -->"
)
END = "<!-- release-files:end -->"
DOCS = ("docs/releasing.md", "README.md")
#: A stand-in version: the names are shown for any ``X.Y.Z``.
VERSION = "0.0.0"


def _short(name: str) -> str:
    return "…" + name.split(f"-{VERSION}", 1)[1] if f"-{VERSION}-" in name else name


def _tested(test: WheelTest) -> str:
    where = test.runner + (" under QEMU" if test.via == "qemu" else "")
    image = {"debian": "slim", "alpine": "alpine"}.get(test.container)
    return where + (f" in a `python:3.X-{image}` container" if image else "")


def _counts(project: Project, contract: Contract) -> tuple[int, int, int]:
    files = full_manifest(project, contract, VERSION)
    free = len(free_threaded_names(project, contract, VERSION))
    return len(files), len(contract.targets), free


def _releasing(project: Project, contract: Contract) -> str:
    total, abi3, free = _counts(project, contract)
    ft = contract.free_threaded
    ft_pythons = " and ".join(f"{p}t" for p in ft.pythons) if ft else ""
    rows = [
        f"For version `X.Y.Z`, exactly these {total} files (`python -m release manifest` prints "
        f"them): {abi3} abi3 wheels, each tested on CPython {', '.join(contract.pythons)}; "
        f"{free} free-threaded wheels (CPython {ft_pythons}), each built and tested by "
        "cibuildwheel on its runner; and the sdist.",
        "",
        "| file | built on | tested on |",
        "|---|---|---|",
    ]
    for t in contract.targets:
        name = _short(wheel_name(project, contract, VERSION, t.platform_tag))
        level = t.manylinux if str(t.manylinux).startswith("musl") else f"manylinux_{t.manylinux}"
        built = t.runner + (f", {level} container" if t.manylinux else "")
        rows.append(f"| `{name}` | {built} | {'; '.join(_tested(w) for w in t.tests)} |")
    for target in ft.targets if ft else ():
        for abi in ft.abis if ft else ():
            for tag in target.platform_tags:
                name = f"…-{abi.removesuffix('t')}-{abi}-{tag}.whl"
                rows.append(f"| `{name}` | {target.runner} (cibuildwheel) | the same job |")
    sdist = sdist_name(project, VERSION).replace(VERSION, "X.Y.Z")
    rows.append(f"| `{sdist}` | ubuntu-24.04 | a wheel built from it, on ubuntu-24.04 |")
    return "\n".join(rows)


def _readme(project: Project, contract: Contract) -> str:
    total, abi3, free = _counts(project, contract)
    return (
        f"A release is {total} files: {abi3} abi3 wheels, {free} free-threaded wheels and the "
        "sdist ([docs/releasing.md](docs/releasing.md) lists them)."
    )


def blocks(project: Project, contract: Contract) -> dict[str, str]:
    """Document path -> its generated block's body."""
    return dict(zip(DOCS, (_releasing(project, contract), _readme(project, contract)), strict=True))


def _replaced(text: str, body: str) -> str | None:
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?\n" + re.escape(END), re.S)
    if not pattern.search(text):
        return None
    return pattern.sub(lambda _: f"{BEGIN}\n{body}\n{END}", text, count=1)


def problems(project: Project, contract: Contract) -> list[str]:
    """Each document whose block is missing or stale."""
    found = []
    for doc, body in blocks(project, contract).items():
        text = project.path(doc).read_text(encoding="utf-8")
        new = _replaced(text, body)
        if new is None:
            found.append(f"{doc} has no {BEGIN} ... {END} block")
        elif new != text:
            found.append(f"{doc}: the release-files block is stale (run `release compliance`)")
    return found


def write(project: Project, contract: Contract) -> None:
    """Rewrite each document's block from the manifest."""
    for doc, body in blocks(project, contract).items():
        path = project.path(doc)
        text = path.read_text(encoding="utf-8")
        new = _replaced(text, body)
        if new is not None and new != text:
            path.write_text(new, encoding="utf-8")
