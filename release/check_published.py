"""``check-published``: before an upload, the files already on the index are ours, byte for byte.

The publish steps upload with ``skip-existing: true`` so a re-run after a partial upload
finishes it. That would also hide a re-run that rebuilt different bytes under the same
names: the index would keep the old files while SHA256SUMS, the Sigstore bundles and the
GitHub release describe the new ones. This command reads the project's page of the target
simple index (PEP 691 JSON, or the PEP 503 HTML with ``#sha256=`` fragments that pypiserver
serves) and compares the sha256 of every local file the index already holds: equal is
reported as already published, different fails naming the file. A project the index does
not know yet (404) has nothing published.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from release.check_name import SIMPLE_JSON, canonical
from release.console import detail, finding, step
from release.errors import ReleaseError
from release.project import Project

TIMEOUT = 60
HREF = re.compile(r"""<a\s[^>]*href=["']([^"'#]*)#sha256=([0-9a-f]{64})["'][^>]*>""", re.I)


def published_hashes(simple_url: str, project: str) -> dict[str, str]:
    """File name -> sha256 of every file of ``project`` on the simple index ``simple_url``."""
    url = f"{simple_url.rstrip('/')}/{canonical(project)}/"
    accept = f"{SIMPLE_JSON}, text/html;q=0.1"
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            content_type = response.headers.get("Content-Type", "")
            body = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        raise ReleaseError(f"cannot read {url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ReleaseError(f"cannot read {url}: {getattr(exc, 'reason', exc)}") from exc
    if content_type.startswith(SIMPLE_JSON):
        try:
            return {f["filename"]: f["hashes"]["sha256"] for f in json.loads(body)["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseError(f"{url}: not a PEP 691 project page ({exc})") from exc
    return {href.rsplit("/", 1)[-1]: digest for href, digest in HREF.findall(body)}


def compare(directory: Path, published: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(already published, mismatched, new) local release files of ``directory``."""
    same, different, new = [], [], []
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    if not files:
        raise ReleaseError(f"{directory} holds no wheel or sdist")
    for path in files:
        remote = published.get(path.name)
        if remote is None:
            new.append(path.name)
        elif hashlib.sha256(path.read_bytes()).hexdigest() == remote:
            same.append(path.name)
        else:
            different.append(path.name)
    return same, different, new


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check-published``."""
    parser.add_argument("dist", type=Path, help="the directory about to be uploaded")
    parser.add_argument(
        "--index-url", required=True,
        help="the target's simple index, e.g. https://test.pypi.org/simple/",
    )  # fmt: skip


def main(args: argparse.Namespace, project: Project) -> int:
    """Run ``check-published``."""
    step(f"files of {project.dist_name} already on {args.index_url}")
    same, different, new = compare(args.dist, published_hashes(args.index_url, project.dist_name))
    for name in same:
        detail(f"already published, same sha256: {name}")
    for name in new:
        detail(f"not yet published: {name}")
    for name in different:
        finding(name, "check-published", "the index holds different bytes under this name")
    if different:
        return 1
    print(f"check-published: {len(same)} already published, {len(new)} to upload", flush=True)
    return 0
