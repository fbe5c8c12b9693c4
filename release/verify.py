"""``verify ARTIFACT...``: check release files against what the release workflow made.

Each file's evidence, all made by this repository's ``release.yml`` for the version's tag:
the Sigstore bundle ``<file>.sigstore.json`` (default; identity ``release.yml@refs/tags/vX.Y.Z``
of the repository, GitHub's OIDC issuer, a ``push`` trigger), the PEP 740 attestation on the
index (``--pypi``/``--pypi-url``, verified with ``pypi-attestations`` against the trusted
publisher and its environment), GitHub build provenance (``--github``, ``gh attestation
verify``) and, with ``--checksums``, its line in SHA256SUMS. The tag defaults to ``v`` + the
file name's version; the repository to ``--repository``, else ``[project.urls]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from release import checksums
from release.console import detail, error, step
from release.errors import ReleaseError
from release.process import run
from release.project import Project

ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = ".github/workflows/release.yml"
BUNDLE_SUFFIX = ".sigstore.json"
#: PyPI's integrity API (PEP 740) content type.
INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
PYPI = "https://pypi.org"
#: The publishing environment of each index (the contract's environment names).
ENVIRONMENTS = {"https://pypi.org": "pypi", "https://test.pypi.org": "testpypi"}


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
    expected = policy.AllOf([
        policy.Identity(identity=identity(repository, tag), issuer=ISSUER),
        policy.GitHubWorkflowRepository(repository), policy.GitHubWorkflowRef(f"refs/tags/{tag}"),
        policy.GitHubWorkflowTrigger("push"),
    ])  # fmt: skip
    try:
        verifier = Verifier.production(offline=offline)
        verifier.verify_artifact(artifact.read_bytes(), bundle, expected)
    except (VerificationError, SigstoreError) as exc:
        raise ReleaseError(f"{artifact.name}: verification failed ({exc})") from exc


def provenance_url(base: str, project: str, version: str, file_name: str) -> str:
    """The PEP 740 provenance URL of one file on an index (PyPI's integrity API)."""
    return f"{base.rstrip('/')}/integrity/{project}/{version}/{file_name}/provenance"


def verify_pep740(
    artifact: Path, project: str, repository: str, base: str, *, offline: bool
) -> None:
    """Verify the index's PEP 740 attestations of ``artifact`` against our publisher."""
    import pypi_attestations as pa

    url = provenance_url(base, project, version_from_name(artifact.name), artifact.name)
    request = urllib.request.Request(url, headers={"Accept": INTEGRITY_JSON})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            provenance = pa.Provenance.model_validate_json(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ReleaseError(f"{artifact.name}: no PEP 740 provenance at {url} ({exc})") from exc
    environment = ENVIRONMENTS.get(base.rstrip("/"))
    workflow = WORKFLOW.rsplit("/", 1)[1]
    publisher = pa.GitHubPublisher(
        repository=repository, workflow=workflow, environment=environment
    )
    attestations = [a for b in provenance.attestation_bundles for a in b.attestations]
    if not attestations:
        raise ReleaseError(f"{artifact.name}: the provenance at {url} holds no attestation")
    try:
        dist = pa.Distribution.from_file(artifact)
        for attestation in attestations:
            attestation.verify(publisher, dist, offline=offline)
    except (pa.AttestationError, pa.VerificationError, ValueError) as exc:
        raise ReleaseError(f"{artifact.name}: PEP 740 attestation failed ({exc})") from exc


def github_command(gh: str, artifact: Path, repository: str, tag: str) -> list[str]:
    """``gh attestation verify`` for a file built by the release workflow at ``tag``."""
    return [
        gh, "attestation", "verify", str(artifact), "--repo", repository,
        "--signer-workflow", f"{repository}/{WORKFLOW}", "--source-ref", f"refs/tags/{tag}",
        "--deny-self-hosted-runners",
    ]  # fmt: skip


def verify_github(artifact: Path, repository: str, tag: str) -> None:
    """Verify the GitHub build provenance attestation of ``artifact`` with the GitHub CLI."""
    gh = shutil.which("gh")
    if gh is None:
        raise ReleaseError("--github needs the GitHub CLI `gh` (https://cli.github.com), logged in")
    result = run(github_command(gh, artifact, repository, tag), check=False, capture=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise ReleaseError(
            f"{artifact.name}: GitHub attestation failed ({output[-1] if output else 'gh'})"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", type=Path, metavar="ARTIFACT")
    parser.add_argument("--tag", help="release tag (default: v + the file name's version)")
    parser.add_argument("--repository", help="owner/name (default: from the project)")
    parser.add_argument("--offline", action="store_true", help="cached Sigstore trust root")
    parser.add_argument("--sigstore", action=argparse.BooleanOptionalAction, default=True,
                        help="check <file>.sigstore.json (default: yes)")  # fmt: skip
    parser.add_argument("--checksums", type=Path, help="SHA256SUMS that must list each file")
    parser.add_argument("--pypi", action="store_true", help=f"check PEP 740 attestations on {PYPI}")
    parser.add_argument("--pypi-url", help="check PEP 740 attestations on this index instead")
    parser.add_argument("--github", action="store_true", help="check GitHub build provenance")


def main(args: argparse.Namespace, project: Project) -> int:
    """Verify every artifact; exit 1 if any check of any artifact fails."""
    repository = args.repository or project.repository
    index = args.pypi_url or (PYPI if args.pypi else None)
    sums = checksums.parse(args.checksums.read_text(encoding="utf-8")) if args.checksums else None
    failures = 0
    for artifact in args.artifacts:
        if artifact.name.endswith(BUNDLE_SUFFIX) or artifact.name == checksums.FILE_NAME:
            continue
        try:
            tag = args.tag or f"v{version_from_name(artifact.name)}"
            step(f"verify {artifact.name}")
            if sums is not None:
                checksums.check(artifact, sums)
                detail(f"listed in {args.checksums} with its SHA-256")
            if args.sigstore:
                detail(f"Sigstore identity {identity(repository, tag)}")
                verify_artifact(artifact, repository, tag, offline=args.offline)
            if index:
                verify_pep740(artifact, project.dist_name, repository, index, offline=args.offline)
                detail(f"PEP 740 attestation from {index} verified")
            if args.github:
                verify_github(artifact, repository, tag)
                detail("GitHub build provenance verified")
            detail("OK")
        except ReleaseError as exc:
            error(str(exc))
            failures += 1
    return 1 if failures else 0
