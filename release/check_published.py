"""``check-published``: before an upload, the files already on the index are ours, byte for byte.

The publish steps use ``skip-existing: true`` so a re-run finishes a partial upload; that
would also hide a re-run that rebuilt other bytes under the same names. This reads the
project's page of the target index (PEP 691 JSON, or PEP 503 HTML with ``#sha256=``) and
fails naming each local file the index holds with another sha256 (a 404 is nothing yet).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from packaging.utils import canonicalize_name

from release.check_name import SIMPLE_JSON, read_index
from release.checksums import sha256
from release.console import detail, finding, step
from release.errors import ReleaseError
from release.project import Project

TIMEOUT = 60
HREF = re.compile(r"""<a\s[^>]*href=["']([^"'#]*)#sha256=([0-9a-f]{64})["'][^>]*>""", re.I)


def published_hashes(simple_url: str, project: str) -> dict[str, str]:
    """File name -> sha256 of every file of ``project`` on the simple index ``simple_url``."""
    url = f"{simple_url.rstrip('/')}/{canonicalize_name(project)}/"
    page = read_index(url, f"{SIMPLE_JSON}, text/html;q=0.1", TIMEOUT)
    if page is None:
        return {}
    content_type, body = page[0], page[1].decode("utf-8")
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
        elif sha256(path) == remote:
            same.append(path.name)
        else:
            different.append(path.name)
    return same, different, new


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dist", type=Path, help="the directory about to be uploaded")
    parser.add_argument("--index-url", required=True, help="the target's simple index")


def main(args: argparse.Namespace, project: Project) -> int:
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
