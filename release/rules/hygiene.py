"""Workflow hygiene rules: pinned actions, least privilege, credentials, timeouts,
concurrency, triggers and thin steps."""

from __future__ import annotations

import re

from release.errors import ReleaseError
from release.project import DEPENDABOT
from release.rules.base import Context, Rule
from release.workflows import run_commands

SHA_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")
#: Longest a ``run:`` script may be, in logical command lines.
MAX_RUN_COMMANDS = 1


def action_pinning(ctx: Context) -> list[str]:
    """Every action is pinned to a full commit SHA with a ``# vX.Y.Z`` comment, the same SHA
    everywhere."""
    found: list[str] = []
    seen: dict[str, str] = {}
    for workflow in ctx.workflows:
        for line in workflow.uses_lines:
            where = f"{workflow.name}:{line.line}"
            if not SHA_REF.match(line.ref):
                found.append(f"{where}: {line.ref} is not pinned to a full commit SHA")
                continue
            if not line.comment or not VERSION_COMMENT.match(line.comment):
                found.append(f"{where}: {line.ref} lacks a '# vX.Y.Z' comment")
            action, sha = line.ref.split("@")
            if seen.setdefault(action, sha) != sha:
                found.append(f"{where}: {action} pinned to {sha}, elsewhere to {seen[action]}")
    return found


def permissions(ctx: Context) -> list[str]:
    """Top-level ``permissions: {}``; each job declares its own; ``id-token: write`` and
    ``contents: write`` only on the contract's jobs; nothing else writes."""
    found: list[str] = []
    contract = ctx.contract
    for workflow in ctx.workflows:
        if workflow.data.get("permissions") != {}:
            found.append(f"{workflow.name}: top-level permissions is not {{}}")
        for job in workflow.jobs.values():
            perms = job.permissions
            if not isinstance(perms, dict):
                found.append(f"{workflow.name} job {job.id}: permissions not declared as a mapping")
                continue
            for scope, level in perms.items():
                allowed = level in ("read", "none")
                if scope == "id-token" and level == "write":
                    allowed = workflow is ctx.release and job.id in contract.id_token_jobs
                if scope == "contents" and level == "write":
                    allowed = workflow is ctx.release and job.id in contract.contents_write_jobs
                if scope == "attestations" and level == "write":
                    allowed = workflow is ctx.release and job.id in contract.attestations_write_jobs
                if scope in ("pages", "id-token") and level == "write" and workflow is ctx.docs:
                    allowed = job.id == DOCS_DEPLOY_JOB
                if not allowed:
                    found.append(f"{workflow.name} job {job.id}: {scope}: {level} not allowed")
    release_jobs = ctx.release.jobs
    jobs = (
        *contract.id_token_jobs,
        *contract.attestations_write_jobs,
        *contract.contents_write_jobs,
    )
    for job_id in jobs:
        if job_id not in release_jobs:
            found.append(f"contract names job {job_id}, which release.yml lacks")
    return found


def checkout_credentials(ctx: Context) -> list[str]:
    """Every checkout sets ``persist-credentials: false``."""
    found: list[str] = []
    for workflow in ctx.workflows:
        for job in workflow.jobs.values():
            for step in job.steps_using("actions/checkout"):
                if step.with_.get("persist-credentials") is not False:
                    found.append(f"{workflow.name} {step.label}: persist-credentials is not false")
    return found


def timeouts(ctx: Context) -> list[str]:
    """Every job has ``timeout-minutes``."""
    return [
        f"{workflow.name} job {job.id}: no timeout-minutes"
        for workflow in ctx.workflows
        for job in workflow.jobs.values()
        if not isinstance(job.data.get("timeout-minutes"), int)
    ]


def concurrency(ctx: Context) -> list[str]:
    """Every workflow has a concurrency group; a tag run is never cancelled."""
    found: list[str] = []
    for workflow in ctx.workflows:
        group = workflow.data.get("concurrency")
        if not isinstance(group, dict) or "group" not in group:
            found.append(f"{workflow.name}: no concurrency group")
    for workflow in (ctx.release, ctx.docs):
        group = workflow.data.get("concurrency") or {}
        if group.get("cancel-in-progress") not in (
            False,
            "${{ github.event_name == 'pull_request' }}",
        ):
            found.append(f"{workflow.name}: cancel-in-progress may cancel a tag run")
    return found


def triggers(ctx: Context) -> list[str]:
    """ci.yml runs on pushes to main and pull requests; release.yml on tags and pull requests
    (as a dry run); neither uses pull_request_target or workflow_run."""
    found: list[str] = []
    for workflow in ctx.workflows:
        for dangerous in ("pull_request_target", "workflow_run"):
            if dangerous in workflow.triggers:
                found.append(f"{workflow.name}: triggered by {dangerous}")
        if "pull_request" not in workflow.triggers:
            found.append(f"{workflow.name}: not run on pull requests")
    branches = (ctx.ci.triggers.get("push") or {}).get("branches") or []
    if "main" not in branches:
        found.append("ci.yml: not run on pushes to main")
    push = ctx.release.triggers.get("push") or {}
    if set(push) != {"tags"}:
        found.append(f"release.yml: push trigger has {sorted(push)}, expected only tags")
    return found


def thin_steps(ctx: Context) -> list[str]:
    """Each ``run:`` step of release.yml is one command (the logic lives in the toolkit)."""
    found: list[str] = []
    for job in ctx.release.jobs.values():
        for step in job.steps:
            commands = run_commands(step.run)
            if len(commands) > MAX_RUN_COMMANDS:
                found.append(f"release.yml {step.label}: {len(commands)} commands in one step")
    return found


#: The docs workflow's only job that may write: it deploys the site to GitHub Pages.
DOCS_DEPLOY_JOB = "deploy"

#: Ecosystems Dependabot must propose updates for: the pinned actions, Cargo.lock, uv.lock.
UPDATED_ECOSYSTEMS = ("github-actions", "cargo", "uv")


def update_proposals(ctx: Context) -> list[str]:
    """Dependabot proposes grouped weekly updates for actions, Cargo and uv; CI runs zizmor
    online (impostor commits, known-vulnerable actions) with the workflow token."""
    import yaml

    found: list[str] = []
    try:
        config = yaml.safe_load(ctx.project.text(DEPENDABOT)) or {}
    except ReleaseError as exc:
        config = {}
        found.append(str(exc))
    updates = {u.get("package-ecosystem"): u for u in config.get("updates") or []}
    for ecosystem in UPDATED_ECOSYSTEMS:
        update = updates.get(ecosystem)
        if update is None:
            found.append(f"{DEPENDABOT}: no updates for {ecosystem}")
            continue
        if (update.get("schedule") or {}).get("interval") != "weekly":
            found.append(f"{DEPENDABOT}: {ecosystem} updates are not weekly")
        if not update.get("groups"):
            found.append(f"{DEPENDABOT}: {ecosystem} updates are not grouped")
    online = [
        s
        for job in ctx.ci.jobs.values()
        for s in job.steps
        if "zizmor" in s.run and "--offline" not in s.run
    ]
    if not online:
        found.append("ci.yml does not run zizmor online")
    for step in online:
        if (step.data.get("env") or {}).get("GH_TOKEN") != "${{ github.token }}":
            found.append(f"ci.yml {step.label}: online zizmor without GH_TOKEN: github.token")
    return found


RULES = [
    Rule(
        "action-pinning",
        "every `uses:` is pinned to a 40-hex commit SHA with a `# vX.Y.Z` comment, one SHA "
        "per action",
        action_pinning,
    ),
    Rule(
        "permissions",
        "top-level `permissions: {}`; every job declares read-only permissions except "
        "`id-token: write` on the contract's signing/publishing jobs, `attestations: write` on "
        "its attesting job, `contents: write` on the GitHub-release job, and `pages: write` + "
        "`id-token: write` on docs.yml's deploy job",
        permissions,
    ),
    Rule(
        "checkout-credentials",
        "every actions/checkout step sets `persist-credentials: false`",
        checkout_credentials,
    ),
    Rule("timeouts", "every job sets `timeout-minutes`", timeouts),
    Rule(
        "concurrency",
        "every workflow has a concurrency group; release.yml and docs.yml (which run on tags) "
        "cancel only pull-request runs",
        concurrency,
    ),
    Rule(
        "triggers",
        "ci.yml: push to main + pull_request; release.yml: push of tags only + pull_request; "
        "no pull_request_target or workflow_run",
        triggers,
    ),
    Rule(
        "thin-steps",
        "every `run:` step in release.yml is a single command (the checks live in `release`)",
        thin_steps,
    ),
    Rule(
        "update-proposals",
        "Dependabot proposes grouped weekly updates for GitHub Actions, Cargo and uv; ci.yml "
        "runs zizmor online (impostor commits, known-vulnerable actions) with the workflow token",
        update_proposals,
    ),
]
