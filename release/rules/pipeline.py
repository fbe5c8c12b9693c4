"""Rules on the release pipeline's order and inputs: verification first, locked builds with a
pinned maturin, the exact manifest, environments, signing apart from uploading."""

from __future__ import annotations

import re

from packaging.requirements import Requirement

from release import build_settings, check_installs
from release.changelog import release_notes
from release.errors import ReleaseError
from release.manifest import full_manifest
from release.nox_sessions import NOXFILE, parse_noxfile
from release.project import CARGO_LOCK
from release.rules.base import (
    DOWNLOAD,
    MATURIN_ACTION,
    PUBLISH,
    TAG_CONDITION,
    UPLOAD,
    Context,
    failing,
    rules,
    unneeded,
    unrun,
)
from release.workflows import run_commands

SIGSTORE = "sigstore/gh-action-sigstore-python"
ATTEST = "actions/attest-build-provenance"
#: Jobs of release.yml that only run for a pushed tag.
TAG_ONLY_JOBS = ("sign", "publish-testpypi", "smoke-testpypi", "publish-pypi", "github-release")
#: A cargo or maturin command that builds, tests or runs the crate.
BUILDS = re.compile(r"\b(cargo|maturin) (build|test|clippy|run|check)\b")


def tag_verification(ctx: Context) -> list[str]:
    """release.yml runs on tags v*.*.*; its first job checks the tag equals the version, that this
    document is current and that PyPI accepts the name; sdist and wheel builds wait for it"""
    workflow = ctx.release
    verify = workflow.job("verify")
    tags = (workflow.triggers.get("push") or {}).get("tags") or []
    return [
        *unrun(verify, 'python -m release check-tag "$GITHUB_REF_NAME"',
               "python -m release compliance --check", "python -m release check-name"),
        *[p for j in ("sdist", "wheels") for p in unneeded(workflow.job(j), "verify")],
        *failing((ctx.contract.tag_pattern in tags,
                  f"release.yml is not triggered by tags {ctx.contract.tag_pattern!r}")),
    ]  # fmt: skip


def expected_manifest(ctx: Context) -> list[str]:
    """the inspect job compares the downloaded artifacts with the exact full manifest (one wheel per
    target + the sdist, no partial mode), and each publish job checks its upload directory against
    it"""
    contract = ctx.contract
    names = set(full_manifest(ctx.project, contract, ctx.project.version))
    ft = contract.free_threaded
    ft_tags = len(ft.pythons) * sum(len(t.platform_tags) for t in ft.targets)
    found = failing((len(names) == len(contract.targets) + ft_tags + 1,
                     f"manifest has {len(names)} distinct names for {len(contract.targets)} "
                     f"targets + {ft_tags} free-threaded wheels + sdist"))  # fmt: skip
    for target in (t for t in (*contract.targets, contract.sdist_wheel) if t.os == "linux"):
        arch, level = target.rust_target.split("-")[0], str(target.manylinux)
        prefix = level if level.startswith("musllinux_") else f"manylinux_{level}"
        if target.platform_tag.split(".")[0] != f"{prefix}_{arch}":
            found.append(f"target {target.id}: tag {target.platform_tag} is not {prefix} on {arch}")
    inspect = ctx.release.job("inspect")
    commands = [
        c for s in inspect.steps for c in run_commands(s.run) if "python -m release inspect" in c
    ]
    found += failing((commands, "inspect job does not run `release inspect`"))
    found += [f"inspect job does not use the full exact manifest: {c}" for c in commands
              if re.search(r"--host-only|--manifest-only|--version", c)]  # fmt: skip
    if any(d.with_.get("pattern") != "dist-*" for d in inspect.steps_using(DOWNLOAD)):
        found.append("inspect job does not download every dist-* artifact")
    found += unneeded(inspect, "sdist", "wheels", "free-threaded-wheels")
    for env in contract.environments:
        found += unrun(ctx.release.job(env.job), "python -m release inspect dist --manifest-only")
    return found


def locked_build(ctx: Context) -> list[str]:
    """Cargo.lock exists and every maturin/cargo build in the workflows and the rehearsal uses
    --locked; release wheels use --release"""
    if not ctx.project.path(CARGO_LOCK).is_file():
        return [f"{CARGO_LOCK} is missing"]
    found: list[str] = []
    for workflow, step in ctx.steps(MATURIN_ACTION):
        args = str(step.with_.get("args", "")).split()
        if step.with_.get("command", "build") == "build":
            found += failing(
                ("--locked" in args,
                 f"{workflow.name} {step.label}: maturin build without --locked"),
                (workflow is not ctx.release or "--release" in args,
                 f"{workflow.name} {step.label}: release wheel without --release"),
            )  # fmt: skip
    found += [f"{workflow.name} {step.label}: `{command}` without --locked"
              for workflow, step in ctx.steps() for command in run_commands(step.run)
              if BUILDS.search(command) and "--locked" not in command]  # fmt: skip
    if "--locked" not in build_settings.MATURIN_BUILD_ARGS:
        found.append("the rehearsal builds without --locked")
    try:
        sessions, _ = parse_noxfile(ctx.project.text(NOXFILE))
    except (ReleaseError, SyntaxError):
        sessions = []  # the ci-sessions rule reports an unreadable noxfile
    return found + [
        f"{NOXFILE} session {session.name}: `{' '.join(command)}` without --locked"
        for session in sessions
        for command in session.commands
        if BUILDS.search(" ".join(command)) and "--locked" not in command
    ]


def maturin_pinned(ctx: Context) -> list[str]:
    """every maturin-action step and the rehearsal use the contract's exact maturin version, which
    [build-system] allows"""
    expected = ctx.contract.maturin
    found = [
        f"{workflow.name} {step.label}: maturin-version {pinned!r}, contract says {expected}"
        for workflow, step in ctx.steps(MATURIN_ACTION)
        if (pinned := str(step.with_.get("maturin-version", ""))).removeprefix("v") != expected
    ]
    rehearsal = build_settings.MATURIN_VERSION
    requires = ctx.project.pyproject.get("build-system", {}).get("requires", [])
    maturin = [r for r in requires if r.startswith("maturin")]
    return found + failing(
        (expected == rehearsal, f"the rehearsal uses maturin {rehearsal}, not {expected}"),
        (maturin, "pyproject.toml [build-system] does not require maturin"),
        (not maturin or expected in Requirement(maturin[0]).specifier,
         f"[build-system] {maturin[:1]} excludes the pinned maturin {expected}"),
    )  # fmt: skip


def environments(ctx: Context) -> list[str]:
    """only the contract's publish jobs have environments (testpypi, then pypi) and publish, with
    trusted publishing, PEP 740 attestations and skip-existing (re-runnable), after signing and a
    TestPyPI install test, and only for tag pushes"""
    workflow, contract = ctx.release, ctx.contract
    env_jobs = {env.job: env for env in contract.environments}
    found: list[str] = []
    for job in workflow.jobs.values():
        env, steps = job.environment, job.steps_using(PUBLISH)
        if job.id not in env_jobs:
            found += failing((env is None and not steps, f"job {job.id} has an environment or "
                              "publishes but is not a contract publish job"))  # fmt: skip
            continue
        wanted = env_jobs[job.id]
        found += failing(
            (env and env.get("name") == wanted.name,
             f"job {job.id} does not run in environment {wanted.name!r}"),
            (not env or env.get("name") != wanted.name or env.get("url") == wanted.url,
             f"job {job.id} environment url is not the contract's {wanted.url!r}"),
            (len(steps) == 1, f"job {job.id} has {len(steps)} publish steps, expected 1"),
        )  # fmt: skip
        for step in steps:
            found += failing(
                (step.with_.get("repository-url") == wanted.upload_url,
                 f"{step.label}: repository-url is not the contract's {wanted.upload_url!r}"),
                (step.with_.get("attestations") is True,
                 f"{step.label}: PEP 740 attestations are not enabled"),
                (step.with_.get("skip-existing") is True,
                 f"{step.label}: skip-existing is not true (a re-run would fail)"),
                (not {"password", "user"} & set(step.with_),
                 f"{step.label}: uses a password instead of trusted publishing"),
            )  # fmt: skip
    found += [f"job {j} is not limited to tag pushes (if: {TAG_CONDITION})"
              for j in TAG_ONLY_JOBS if workflow.job(j).condition != TAG_CONDITION]  # fmt: skip
    order = [("publish-testpypi", "sign"), ("smoke-testpypi", "publish-testpypi"),
             ("publish-pypi", "smoke-testpypi"), ("github-release", "publish-pypi")]  # fmt: skip
    found += [p for job_id, needed in order for p in unneeded(workflow.job(job_id), needed)]
    testpypi = contract.environment("testpypi")
    simple = testpypi.upload_url and testpypi.upload_url.replace("/legacy/", "/simple/")
    command = f"python -m release test-installed --index-url {simple}"
    return found + unrun(workflow.job("smoke-testpypi"), command)


def signing_separated(ctx: Context) -> list[str]:
    """one sign job signs a separate signing/ copy, verifies the bundles (for the workflow's own
    repository) and uploads them under a non-dist name; publish jobs upload only fresh dist-*
    downloads"""
    workflow = ctx.release
    sign = workflow.job("sign")
    signers = sign.steps_using(SIGSTORE)
    bundles = [str(s.with_.get("name", "")) for s in sign.steps_using(UPLOAD)]
    verify = [s for s in sign.steps if "python -m release verify signing/" in s.run]
    found = failing(
        (len(signers) == 1, f"sign job has {len(signers)} Sigstore steps, expected 1"),
        (not sign.steps_using(PUBLISH) and not sign.environment, "sign job also publishes"),
        (verify, "sign job does not verify the bundles with `release verify`"),
        (all('--repository "$GITHUB_REPOSITORY"' in s.run for s in verify),
         '`release verify` in the sign job lacks --repository "$GITHUB_REPOSITORY"'),
        (bundles and not any(b.startswith("dist-") for b in bundles),
         "sign job must upload the bundles under a name outside dist-*"),
    )  # fmt: skip
    for step in signers:
        inputs = str(step.with_.get("inputs", "")).split()
        signed = {i.rsplit("/", 1)[0].lstrip("./") for i in inputs}
        identity = str(step.with_.get("verify-cert-identity", ""))
        found += failing(
            (signed == {"signing"}, f"{step.label}: signs {sorted(signed)}, not only signing/"),
            (step.with_.get("verify") is True, f"{step.label}: does not verify its bundles"),
            ("/.github/workflows/release.yml@" in identity,
             f"{step.label}: verify-cert-identity is not the release workflow"),
            *[(step.with_.get(key) is False, f"{step.label}: {key} is not false")
              for key in ("upload-signing-artifacts", "release-signing-artifacts")],
        )  # fmt: skip
    for job in (j for j in workflow.jobs.values() if j.id != "sign"):
        found += failing((not job.steps_using(SIGSTORE), f"job {job.id} signs; only sign may"))
        if job.steps_using(PUBLISH):
            found += [f"{d.label}: a publish job downloads something besides dist-*"
                      for d in job.steps_using(DOWNLOAD)
                      if d.with_.get("pattern") != "dist-*" or d.with_.get("name")]  # fmt: skip
            found += [f"{s.label}: packages-dir is not dist/" for s in job.steps_using(PUBLISH)
                      if str(s.with_.get("packages-dir", "")).rstrip("/") != "dist"]  # fmt: skip
    return found


def notes_and_provenance(ctx: Context) -> list[str]:
    """CHANGELOG.md has the version's entry and it is the GitHub release's body; the sign job writes
    and checks SHA256SUMS, attests GitHub build provenance for every file in it, and the release
    carries it"""
    found: list[str] = []
    try:
        release_notes(ctx.project, ctx.project.version)
    except ReleaseError as exc:
        found.append(str(exc))
    workflow, sums = ctx.release, "signing/SHA256SUMS"
    sign, release = workflow.job("sign"), workflow.job("github-release")
    attest = sign.steps_using(ATTEST)
    uploaded = " ".join(str(s.with_.get("path", "")) for s in sign.steps_using(UPLOAD))
    create = [s.run for s in release.steps if "gh release create" in s.run]
    found += unrun(
        sign, f"python -m release checksums signing --output {sums}", f"--checksums {sums}"
    )
    found += unrun(release, 'python3 -m release notes "$GITHUB_REF_NAME" --output')
    return found + failing(
        (len(attest) == 1 and attest[0].with_.get("subject-checksums") == sums,
         f"sign job does not attest build provenance for {sums} ({ATTEST})"),
        (sums in uploaded, f"sign job does not upload {sums} with the bundles"),
        *[(not j.steps_using(ATTEST), f"job {j.id} attests; only the sign job may")
          for j in workflow.jobs.values() if j.id != "sign"],
        (create and "--notes-file" in create[0] and "--generate-notes" not in create[0],
         "github-release does not use the CHANGELOG entry as the release body"),
        (any(s.with_.get("name") == "sigstore-bundles" for s in release.steps_using(DOWNLOAD)),
         "github-release does not attach the bundles and SHA256SUMS"),
    )  # fmt: skip


def installs_have_wheels(ctx: Context) -> list[str]:
    """every package set a release.yml, ci.yml or docs.yml job installs (dependency groups, --with,
    cibuildwheel's test and build requirements) has a wheel in uv.lock for each runner's platform
    and Python, free-threaded ones included (`release check-installs`; --online in verify)"""
    return check_installs.check(ctx.project).findings


RULES = rules(
    tag_verification,
    expected_manifest,
    locked_build,
    maturin_pinned,
    environments,
    signing_separated,
    notes_and_provenance,
    installs_have_wheels,
)
