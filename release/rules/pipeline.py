"""Rules on the release pipeline's order and inputs: verification first, locked builds with a
pinned maturin, the exact manifest, environments, signing apart from uploading, no caches."""

from __future__ import annotations

import re

from release import build_settings, check_installs
from release.errors import ReleaseError
from release.manifest import full_manifest
from release.nox_sessions import NOXFILE, parse_noxfile
from release.project import CARGO_LOCK
from release.rules.base import Context, Rule
from release.workflows import Job, Step, run_commands

MATURIN_ACTION = "PyO3/maturin-action"
DOWNLOAD = "actions/download-artifact"
UPLOAD = "actions/upload-artifact"
SIGSTORE = "sigstore/gh-action-sigstore-python"
PUBLISH = "pypa/gh-action-pypi-publish"
QEMU_ACTION = "docker/setup-qemu-action"
TAG_CONDITION = "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
#: Jobs of release.yml that only run for a pushed tag.
TAG_ONLY_JOBS = ("sign", "publish-testpypi", "smoke-testpypi", "publish-pypi", "github-release")


def _runs(job: Job, needle: str) -> list[Step]:
    return [s for s in job.steps if needle in s.run]


def tag_verification(ctx: Context) -> list[str]:
    """A verify job checks the tag and the compliance document before anything is built."""
    found: list[str] = []
    workflow = ctx.release
    verify = workflow.job("verify")
    tag_steps = _runs(verify, 'python -m release check-tag "$GITHUB_REF_NAME"')
    if not tag_steps:
        found.append('verify job does not run `release check-tag "$GITHUB_REF_NAME"`')
    if not _runs(verify, "python -m release compliance --check"):
        found.append("verify job does not run `release compliance --check`")
    if not _runs(verify, "python -m release check-name"):
        found.append("verify job does not run `release check-name`")
    for job_id in ("sdist", "wheels"):
        if "verify" not in workflow.job(job_id).needs:
            found.append(f"{job_id} job does not need verify")
    tags = (workflow.triggers.get("push") or {}).get("tags") or []
    if ctx.contract.tag_pattern not in tags:
        found.append(f"release.yml is not triggered by tags {ctx.contract.tag_pattern!r}")
    return found


def expected_manifest(ctx: Context) -> list[str]:
    """The inspect job (and each publish job) compares the artifacts with the exact manifest."""
    found: list[str] = []
    contract = ctx.contract
    names = full_manifest(ctx.project, contract, ctx.project.version)
    ft = contract.free_threaded
    ft_tags = len(ft.pythons) * sum(len(t.platform_tags) for t in ft.targets) if ft else 0
    if len(set(names)) != len(contract.targets) + ft_tags + 1:
        found.append(
            f"manifest has {len(set(names))} distinct names for {len(contract.targets)} "
            f"targets + {ft_tags} free-threaded wheels + sdist"
        )
    for target in (*contract.targets, contract.sdist_wheel):
        if target.os == "linux":
            arch = target.rust_target.split("-")[0]
            level = str(target.manylinux)
            prefix = level if level.startswith("musllinux_") else f"manylinux_{level}"
            if target.platform_tag.split(".")[0] != f"{prefix}_{arch}":
                found.append(
                    f"target {target.id}: platform tag {target.platform_tag} does not match "
                    f"{prefix} on {arch}"
                )
    workflow = ctx.release
    inspect = workflow.job("inspect")
    command = [
        c for s in inspect.steps for c in run_commands(s.run) if "python -m release inspect" in c
    ]
    if not command:
        found.append("inspect job does not run `release inspect`")
    for line in command:
        if "--host-only" in line or "--manifest-only" in line or "--version" in line:
            found.append(f"inspect job does not use the full exact manifest: {line}")
    for download in inspect.steps_using(DOWNLOAD):
        if download.with_.get("pattern") != "dist-*":
            found.append("inspect job does not download every dist-* artifact")
    builders = ("sdist", "wheels", *(("free-threaded-wheels",) if contract.free_threaded else ()))
    for needed in builders:
        if needed not in inspect.needs:
            found.append(f"inspect job does not need {needed}")
    for env in contract.environments:
        job = workflow.job(env.job)
        if not _runs(job, "python -m release inspect dist --manifest-only"):
            found.append(f"{env.job} does not check the upload directory against the manifest")
    return found


def locked_build(ctx: Context) -> list[str]:
    """Every build uses Cargo.lock (--locked); release wheels use the release profile."""
    found: list[str] = []
    if not ctx.project.path(CARGO_LOCK).is_file():
        return [f"{CARGO_LOCK} is missing"]
    for workflow in ctx.workflows:
        for job in workflow.jobs.values():
            for step in job.steps_using(MATURIN_ACTION):
                if step.with_.get("command", "build") != "build":
                    continue
                args = str(step.with_.get("args", "")).split()
                if "--locked" not in args:
                    found.append(f"{workflow.name} {step.label}: maturin build without --locked")
                if workflow is ctx.release and "--release" not in args:
                    found.append(f"{workflow.name} {step.label}: release wheel without --release")
            for step in job.steps:
                for command in run_commands(step.run):
                    if re.search(
                        r"\b(cargo|maturin) (build|test|clippy|run|check)\b", command
                    ) and ("--locked" not in command):
                        found.append(f"{workflow.name} {step.label}: `{command}` without --locked")
    if "--locked" not in build_settings.MATURIN_BUILD_ARGS:
        found.append("the rehearsal builds without --locked")
    found += _locked_sessions(ctx)
    return found


def _locked_sessions(ctx: Context) -> list[str]:
    """The cargo builds of noxfile.py's sessions (what `.ci/run` and ci.yml run)."""
    try:
        sessions, _ = parse_noxfile(ctx.project.text(NOXFILE))
    except (ReleaseError, SyntaxError):
        return []  # the ci-sessions rule reports an unreadable noxfile
    found: list[str] = []
    for session in sessions:
        for command in session.commands:
            text = " ".join(command)
            if re.search(r"\bcargo (build|test|clippy|run|check)\b", text) and (
                "--locked" not in command
            ):
                found.append(f"{NOXFILE} session {session.name}: `{text}` without --locked")
    return found


def maturin_pinned(ctx: Context) -> list[str]:
    """Every maturin run uses the contract's exact maturin version."""
    found: list[str] = []
    expected = ctx.contract.maturin
    for workflow in ctx.workflows:
        for job in workflow.jobs.values():
            for step in job.steps_using(MATURIN_ACTION):
                pinned = str(step.with_.get("maturin-version", ""))
                if pinned.removeprefix("v") != expected:
                    found.append(
                        f"{workflow.name} {step.label}: maturin-version {pinned!r}, "
                        f"contract says {expected}"
                    )
    if expected != build_settings.MATURIN_VERSION:
        found.append(
            f"the rehearsal uses maturin {build_settings.MATURIN_VERSION}, contract says {expected}"
        )
    requires = ctx.project.pyproject.get("build-system", {}).get("requires", [])
    maturin_req = [r for r in requires if r.startswith("maturin")]
    if not maturin_req:
        found.append("pyproject.toml [build-system] does not require maturin")
    else:
        from packaging.requirements import Requirement

        if expected not in Requirement(maturin_req[0]).specifier:
            found.append(
                f"[build-system] {maturin_req[0]!r} excludes the pinned maturin {expected}"
            )
    return found


def environments(ctx: Context) -> list[str]:
    """Publishing happens only in the contract's environments, in order, only for a tag."""
    found: list[str] = []
    workflow = ctx.release
    contract = ctx.contract
    env_jobs = {env.job: env for env in contract.environments}
    for job in workflow.jobs.values():
        env = job.environment
        publishes = bool(job.steps_using(PUBLISH))
        if job.id in env_jobs:
            wanted = env_jobs[job.id]
            if env is None or env.get("name") != wanted.name:
                found.append(f"job {job.id} does not run in environment {wanted.name!r}")
            elif env.get("url") != wanted.url:
                found.append(
                    f"job {job.id} environment url {env.get('url')!r}, contract says {wanted.url!r}"
                )
            steps = job.steps_using(PUBLISH)
            if len(steps) != 1:
                found.append(f"job {job.id} has {len(steps)} publish steps, expected 1")
            for step in steps:
                if step.with_.get("repository-url") != wanted.upload_url:
                    found.append(
                        f"{step.label}: repository-url {step.with_.get('repository-url')!r}, "
                        f"contract says {wanted.upload_url!r}"
                    )
                if step.with_.get("attestations") is not True:
                    found.append(f"{step.label}: PEP 740 attestations are not enabled")
                if step.with_.get("skip-existing") is not True:
                    found.append(f"{step.label}: skip-existing is not true (a re-run would fail)")
                if any(k in step.with_ for k in ("password", "user")):
                    found.append(f"{step.label}: uses a password instead of trusted publishing")
        elif env is not None or publishes:
            found.append(
                f"job {job.id} has an environment or publishes but is not a contract publish job"
            )
    for job_id in TAG_ONLY_JOBS:
        if workflow.job(job_id).condition != TAG_CONDITION:
            found.append(f"job {job_id} is not limited to tag pushes (if: {TAG_CONDITION})")
    order = [("publish-testpypi", "sign"), ("smoke-testpypi", "publish-testpypi"),
             ("publish-pypi", "smoke-testpypi"), ("github-release", "publish-pypi")]  # fmt: skip
    for job_id, needed in order:
        if needed not in workflow.job(job_id).needs:
            found.append(f"job {job_id} does not need {needed}")
    smoke = workflow.job("smoke-testpypi")
    testpypi = contract.environment("testpypi")
    simple = testpypi.upload_url and testpypi.upload_url.replace("/legacy/", "/simple/")
    if not _runs(smoke, f"python -m release test-installed --index-url {simple}"):
        found.append(f"smoke-testpypi does not install the exact version from {simple}")
    return found


def signing_separated(ctx: Context) -> list[str]:
    """Signing happens in its own job, outside the uploaded directory, and is verified."""
    found: list[str] = []
    workflow = ctx.release
    sign = workflow.job("sign")
    signers = sign.steps_using(SIGSTORE)
    if len(signers) != 1:
        found.append(f"sign job has {len(signers)} Sigstore steps, expected 1")
    if sign.steps_using(PUBLISH) or sign.environment:
        found.append("sign job also publishes")
    for step in signers:
        inputs = str(step.with_.get("inputs", "")).split()
        signed_dirs = {i.rsplit("/", 1)[0].lstrip("./") for i in inputs}
        if signed_dirs != {"signing"}:
            found.append(f"{step.label}: signs {sorted(signed_dirs)}, expected only signing/")
        if step.with_.get("verify") is not True:
            found.append(f"{step.label}: does not verify the bundles it makes")
        if "/.github/workflows/release.yml@" not in str(step.with_.get("verify-cert-identity", "")):
            found.append(f"{step.label}: verify-cert-identity is not the release workflow")
        for key in ("upload-signing-artifacts", "release-signing-artifacts"):
            if step.with_.get(key) is not False:
                found.append(f"{step.label}: {key} is not false")
    verify = _runs(sign, "python -m release verify signing/")
    if not verify:
        found.append("sign job does not verify the bundles with `release verify`")
    elif not all('--repository "$GITHUB_REPOSITORY"' in s.run for s in verify):
        found.append('`release verify` in the sign job lacks --repository "$GITHUB_REPOSITORY"')
    bundle_uploads = [s for s in sign.steps_using(UPLOAD)]
    if not bundle_uploads or any(
        str(s.with_.get("name", "")).startswith("dist-") for s in bundle_uploads
    ):
        found.append("sign job must upload the bundles under a name outside dist-*")
    for job in workflow.jobs.values():
        if job.id == "sign":
            continue
        if job.steps_using(SIGSTORE):
            found.append(f"job {job.id} signs; only the sign job may")
        if job.steps_using(PUBLISH):
            for download in job.steps_using(DOWNLOAD):
                if download.with_.get("pattern") != "dist-*" or download.with_.get("name"):
                    found.append(
                        f"{download.label}: a publish job downloads something besides dist-*"
                    )
            for step in job.steps_using(PUBLISH):
                if str(step.with_.get("packages-dir", "")).rstrip("/") != "dist":
                    found.append(f"{step.label}: packages-dir is not dist/")
    return found


ATTEST = "actions/attest-build-provenance"


def notes_and_provenance(ctx: Context) -> list[str]:
    """CHANGELOG.md has the version's entry, which is the GitHub release's description; the
    sign job writes SHA256SUMS, checks it, attests build provenance for every file it lists,
    and the GitHub release carries it."""
    from release.changelog import release_notes

    found: list[str] = []
    try:
        release_notes(ctx.project, ctx.project.version)
    except ReleaseError as exc:
        found.append(str(exc))
    workflow = ctx.release
    sign = workflow.job("sign")
    sums = "signing/SHA256SUMS"
    if not _runs(sign, f"python -m release checksums signing --output {sums}"):
        found.append(f"sign job does not write {sums} with `release checksums`")
    if not _runs(sign, f"--checksums {sums}"):
        found.append(f"sign job's `release verify` does not check {sums}")
    attest = sign.steps_using(ATTEST)
    if len(attest) != 1 or attest[0].with_.get("subject-checksums") != sums:
        found.append(f"sign job does not attest build provenance for {sums} ({ATTEST})")
    uploaded = " ".join(str(s.with_.get("path", "")) for s in sign.steps_using(UPLOAD))
    if sums not in uploaded:
        found.append(f"sign job does not upload {sums} with the bundles")
    for job in workflow.jobs.values():
        if job.id != "sign" and job.steps_using(ATTEST):
            found.append(f"job {job.id} attests; only the sign job may")
    release = workflow.job("github-release")
    if not _runs(release, 'python3 -m release notes "$GITHUB_REF_NAME" --output'):
        found.append("github-release does not take its notes from CHANGELOG.md (`release notes`)")
    create = _runs(release, "gh release create")
    if not create or "--notes-file" not in create[0].run or "--generate-notes" in create[0].run:
        found.append("github-release does not use the CHANGELOG entry as the release body")
    if not any(s.with_.get("name") == "sigstore-bundles" for s in release.steps_using(DOWNLOAD)):
        found.append("github-release does not attach the bundles and SHA256SUMS")
    return found


def no_cache_on_tags(ctx: Context) -> list[str]:
    """No build cache in the release workflow; CI caches (sccache) only on pull requests."""
    found: list[str] = []
    banned = ("actions/cache", "swatinem/rust-cache", "mozilla-actions/sccache-action")
    for job in ctx.release.jobs.values():
        for step in job.steps:
            if step.action.lower().startswith(banned):
                found.append(f"release.yml {step.label}: cache action {step.action}")
            if step.action == "astral-sh/setup-uv" and step.with_.get("enable-cache") is not False:
                found.append(f"release.yml {step.label}: setup-uv without enable-cache: false")
            if step.action == QEMU_ACTION and step.with_.get("cache-image") is not False:
                found.append(
                    f"release.yml {step.label}: setup-qemu-action without cache-image: false"
                )
            if "cache" in step.with_ and step.action != "astral-sh/setup-uv":
                found.append(f"release.yml {step.label}: sets a cache input")
            if "sccache" in step.with_:
                found.append(f"release.yml {step.label}: sccache in the release workflow")
        for key in ("RUSTC_WRAPPER", "SCCACHE_GHA_ENABLED"):
            if key in (job.data.get("env") or {}) or key in (ctx.release.data.get("env") or {}):
                found.append(f"release.yml sets {key}")
    pr_only = "${{ github.event_name == 'pull_request' }}"
    for job in ctx.ci.jobs.values():
        for step in job.steps:
            if "sccache" in step.with_ and step.with_["sccache"] != pr_only:
                found.append(f"ci.yml {step.label}: sccache is not limited to pull requests")
            if step.action.lower().startswith(banned):
                found.append(f"ci.yml {step.label}: cache action {step.action}")
    if "tags" in (ctx.ci.triggers.get("push") or {}):
        found.append("ci.yml runs on tags, where its caches would feed a release")
    return found


RULES = [
    Rule(
        "tag-verification",
        "release.yml runs on tags v*.*.*; its first job checks the tag equals the version, "
        "that this document is current and that PyPI accepts the name; sdist and wheel "
        "builds wait for it",
        tag_verification,
    ),
    Rule(
        "expected-manifest",
        "the inspect job compares the downloaded artifacts with the exact full manifest (one "
        "wheel per target + the sdist, no partial mode), and each publish job checks its upload "
        "directory against it",
        expected_manifest,
    ),
    Rule(
        "locked-build",
        "Cargo.lock exists and every maturin/cargo build in the workflows and the rehearsal uses "
        "--locked; release wheels use --release",
        locked_build,
    ),
    Rule(
        "maturin-pinned",
        "every maturin-action step and the rehearsal use the contract's exact maturin version, "
        "which [build-system] allows",
        maturin_pinned,
    ),
    Rule(
        "environments",
        "only the contract's publish jobs have environments (testpypi, then pypi) and publish, "
        "with trusted publishing, PEP 740 attestations and skip-existing (re-runnable), after "
        "signing and a TestPyPI install test, and only for tag pushes",
        environments,
    ),
    Rule(
        "signing-separated",
        "one sign job signs a separate signing/ copy, verifies the bundles (for the workflow's "
        "own repository) and uploads them "
        "under a non-dist name; publish jobs upload only fresh dist-* downloads",
        signing_separated,
    ),
    Rule(
        "notes-and-provenance",
        "CHANGELOG.md has the version's entry and it is the GitHub release's body; the sign "
        "job writes and checks SHA256SUMS, attests GitHub build provenance for every file in "
        "it, and the release carries it",
        notes_and_provenance,
    ),
    Rule(
        "no-cache-on-tags",
        "release.yml uses no build cache (no cache actions, setup-uv caching off, "
        "setup-qemu-action's binfmt image cache off, no sccache); "
        "ci.yml, which never runs on tags, enables sccache on pull requests only",
        no_cache_on_tags,
    ),
    Rule(
        "installs-have-wheels",
        "every package set a release.yml, ci.yml or docs.yml job installs (dependency groups, "
        "--with, cibuildwheel's test and build requirements) has a wheel in uv.lock for each "
        "runner's platform "
        "and Python, free-threaded ones included (`release check-installs`; --online in verify)",
        lambda ctx: check_installs.check(ctx.project).findings,
    ),
]
