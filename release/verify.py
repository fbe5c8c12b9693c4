"""``verify ARTIFACT...``: check downloaded artifacts against their Sigstore bundles.

Each ``<artifact>`` must sit next to ``<artifact>.sigstore.json`` (as attached to the GitHub
release). The signature must come from this repository's release workflow run for the tag
of that version, as issued by GitHub Actions' OIDC provider:

    identity  https://github.com/<owner>/<repo>/.github/workflows/release.yml@refs/tags/vX.Y.Z
    issuer    https://token.actions.githubusercontent.com

The tag defaults to ``v`` + the version in the artifact's file name.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from release.console import detail, error, step
from release.errors import ReleaseError
from release.project import Project

ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = ".github/workflows/release.yml"
BUNDLE_SUFFIX = ".sigstore.json"


def identity(repository: str, tag: str) -> str:
    """The certificate identity (SAN) the release workflow signs with for ``tag``."""
    return f"https://github.com/{repository}/{WORKFLOW}@refs/tags/{tag}"


def version_from_name(name: str) -> str:
    """The version in a wheel or sdist file name."""
    match = re.match(r"[^-]+-(\d+\.\d+\.\d+)(?:-|\.tar\.gz$)", name)
    if not match:
        raise ReleaseError(f"{name}: cannot read a version from the file name")
    return match.group(1)


def verify_artifact(artifact: Path, repository: str, tag: str, *, offline: bool) -> None:
    """Verify one artifact; raises :class:`ReleaseError` naming what failed."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, InvalidBundle
    from sigstore.verify import Verifier, policy
    from sigstore.verify.policy import VerificationError

    bundle_path = artifact.with_name(artifact.name + BUNDLE_SUFFIX)
    if not artifact.is_file():
        raise ReleaseError(f"{artifact}: no such file")
    if not bundle_path.is_file():
        raise ReleaseError(f"{artifact.name}: no bundle {bundle_path.name} next to it")
    try:
        bundle = Bundle.from_json(bundle_path.read_bytes())
    except (InvalidBundle, ValueError) as exc:
        raise ReleaseError(f"{bundle_path.name}: not a valid Sigstore bundle ({exc})") from exc
    expected = policy.AllOf(
        [
            policy.Identity(identity=identity(repository, tag), issuer=ISSUER),
            policy.GitHubWorkflowRepository(repository),
            policy.GitHubWorkflowRef(f"refs/tags/{tag}"),
            policy.GitHubWorkflowTrigger("push"),
        ]
    )
    try:
        verifier = Verifier.production(offline=offline)
        verifier.verify_artifact(artifact.read_bytes(), bundle, expected)
    except (VerificationError, SigstoreError) as exc:
        raise ReleaseError(f"{artifact.name}: verification failed ({exc})") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``verify``."""
    parser.add_argument("artifacts", nargs="+", type=Path, metavar="ARTIFACT")
    parser.add_argument("--tag", help="release tag (default: v + the file name's version)")
    parser.add_argument("--repository", help="owner/name (default: from the project)")
    parser.add_argument(
        "--offline", action="store_true", help="use the cached Sigstore trust root, no network"
    )


def main(args: argparse.Namespace, project: Project) -> int:
    """Verify every artifact; exit 1 if any fails."""
    repository = args.repository or project.repository
    failures = 0
    for artifact in args.artifacts:
        if artifact.name.endswith(BUNDLE_SUFFIX):
            continue
        try:
            tag = args.tag or f"v{version_from_name(artifact.name)}"
            step(f"verify {artifact.name}")
            detail(f"identity {identity(repository, tag)}")
            verify_artifact(artifact, repository, tag, offline=args.offline)
            detail("OK")
        except ReleaseError as exc:
            error(str(exc))
            failures += 1
    return 1 if failures else 0
