"""``check-name``: fail when PyPI or TestPyPI would refuse the distribution name as too similar.

PyPI refuses a new project whose name "ultranormalizes" (Warehouse's ``ultranormalize_name``:
NFKC, lower case, ``-_.`` removed, ``l``/``i`` read as ``1``, ``o`` as ``0``) like an existing
one's; ``web-transport-py`` failed so against ``webtransport-py``. This reads each index's
project list (PEP 691 JSON) and reports every other project with our ultranormalized name
(ours, once it exists, is no collision). ``--index URL`` replaces PyPI and TestPyPI.
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterable

from packaging.utils import canonicalize_name

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


def ultranormalize(name: str) -> str:
    """The form PyPI compares to refuse confusable new project names."""
    folded = unicodedata.normalize("NFKC", name).lower()
    folded = re.sub(r"[-_.]+", "", folded)
    return folded.translate(str.maketrans({"l": "1", "i": "1", "o": "0"}))


def collisions(ours: str, existing: Iterable[str]) -> list[str]:
    """Every name in ``existing`` PyPI would confuse with ``ours`` (ours itself excluded)."""
    key = ultranormalize(ours)
    own = canonicalize_name(ours)
    return sorted({n for n in existing if ultranormalize(n) == key and canonicalize_name(n) != own})


def read_index(url: str, accept: str, timeout: float) -> tuple[str, bytes] | None:
    """(content type, body) of a simple index page; None when the index answers 404."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise ReleaseError(f"cannot read the simple index {url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReleaseError(f"cannot read the simple index {url}: {reason}") from exc


def fetch_project_names(url: str, timeout: float = TIMEOUT) -> list[str]:
    """The project names listed by a PEP 691 JSON simple index at ``url``."""
    content_type, body = read_index(url, SIMPLE_JSON, timeout) or ("", b"")
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
    parser.add_argument("--index", action="append", metavar="URL",
                        help="PEP 691 index (repeatable; default: PyPI, TestPyPI)")  # fmt: skip
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
