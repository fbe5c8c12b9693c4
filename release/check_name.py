"""``check-name``: fail when PyPI or TestPyPI would refuse the distribution name as too similar.

When a project is created, PyPI compares its name with every existing project's after
"ultranormalizing" both (Warehouse's ``ultranormalize_name``: NFKC, lower case, ``-``, ``_``
and ``.`` removed, ``l`` and ``i`` read as ``1``, ``o`` as ``0``) and refuses a match. The
name ``web-transport-py`` failed that way against the existing ``webtransport-py``. This
command reads each index's project list from its simple index in the JSON form of PEP 691
and reports every other project that ultranormalizes to our name; our own project (the same
PEP 503 normalized name, once it exists) is not a collision.

The release workflow's ``verify`` job runs it before anything is built. ``--index URL``
(repeatable) replaces the default indexes, which is how the tests point it at a local
fixture.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterable

from release.console import detail, error, step
from release.errors import ReleaseError
from release.project import Project

#: The indexes a first release creates the project on: (label, PEP 691 simple index URL).
DEFAULT_INDEXES = (
    ("PyPI", "https://pypi.org/simple/"),
    ("TestPyPI", "https://test.pypi.org/simple/"),
)

#: PEP 691's JSON content type, version 1.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"

#: Seconds to wait for an index (the PyPI project list is tens of megabytes).
TIMEOUT = 120


def canonical(name: str) -> str:
    """PEP 503 normalization: the name two spellings of one project share."""
    return re.sub(r"[-_.]+", "-", name).lower()


def ultranormalize(name: str) -> str:
    """The form PyPI compares to refuse confusable new project names."""
    folded = unicodedata.normalize("NFKC", name).lower()
    folded = re.sub(r"[-_.]+", "", folded)
    return folded.translate(str.maketrans({"l": "1", "i": "1", "o": "0"}))


def collisions(ours: str, existing: Iterable[str]) -> list[str]:
    """Every name in ``existing`` PyPI would confuse with ``ours`` (ours itself excluded)."""
    key = ultranormalize(ours)
    own = canonical(ours)
    return sorted({n for n in existing if ultranormalize(n) == key and canonical(n) != own})


def fetch_project_names(url: str, timeout: float = TIMEOUT) -> list[str]:
    """The project names listed by a PEP 691 JSON simple index at ``url``."""
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            body = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReleaseError(f"cannot read the simple index {url}: {reason}") from exc
    if not content_type.startswith(SIMPLE_JSON):
        raise ReleaseError(f"{url} answered {content_type!r}, not {SIMPLE_JSON} (PEP 691)")
    try:
        data = json.loads(body)
        version = str(data["meta"]["api-version"])
        names = [str(p["name"]) for p in data["projects"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReleaseError(f"{url}: not a PEP 691 project list ({exc})") from exc
    if not version.startswith("1."):
        raise ReleaseError(f"{url}: simple API version {version}, this reads 1.x")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check-name``."""
    parser.add_argument(
        "--index",
        action="append",
        metavar="URL",
        help="a PEP 691 simple index to check (repeatable; default: PyPI and TestPyPI)",
    )
    parser.add_argument("--name", help="name to check (default: pyproject.toml [project].name)")


def main(args: argparse.Namespace, project: Project) -> int:
    """Exit 0 when no other project on any index ultranormalizes to our name."""
    name = args.name or project.dist_name
    indexes = [(url, url) for url in args.index] if args.index else list(DEFAULT_INDEXES)
    step(f"check that no project is confusable with {name!r} ({ultranormalize(name)})")
    failed = False
    for label, url in indexes:
        names = fetch_project_names(url)
        found = collisions(name, names)
        if found:
            failed = True
            error(
                f"{label} would refuse {name!r}: it ultranormalizes like existing "
                f"project(s) {', '.join(found)}; choose another [project].name"
            )
        else:
            detail(f"{label}: none of {len(names)} projects collides")
    return 1 if failed else 0
