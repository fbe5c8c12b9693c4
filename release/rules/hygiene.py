"""Workflow hygiene rules zizmor does not cover: which jobs may write, timeouts,
concurrency, triggers, thin steps and update proposals (zizmor covers pinning,
permissions' breadth, credentials and caches: rule ``zizmor``)."""

from __future__ import annotations

from release.errors import ReleaseError
from release.project import DEPENDABOT
from release.rules.base import Context, failing, rules
from release.workflows import run_commands

#: Longest a ``run:`` script may be, in logical command lines.
MAX_RUN_COMMANDS = 1
#: The docs workflow's only job that may write: it deploys the site to GitHub Pages.
DOCS_DEPLOY_JOB = "deploy"
#: Ecosystems Dependabot must propose updates for: the pinned actions, Cargo.lock, uv.lock.
UPDATED_ECOSYSTEMS = ("github-actions", "cargo", "uv")


def write_scopes(ctx: Context) -> list[str]:
    """only the contract's jobs hold a write scope: `id-token` on the signing/publishing jobs,
    `attestations` on the attesting job, `contents` on the GitHub-release job, `pages` + `id-token`
    on docs.yml's deploy job"""
    contract = ctx.contract
    allowed = {
        (ctx.release.name, "id-token"): contract.id_token_jobs,
        (ctx.release.name, "attestations"): contract.attestations_write_jobs,
        (ctx.release.name, "contents"): contract.contents_write_jobs,
        (ctx.docs.name, "pages"): (DOCS_DEPLOY_JOB,),
        (ctx.docs.name, "id-token"): (DOCS_DEPLOY_JOB,),
    }
    found = [
        f"{workflow.name} job {job.id}: {scope}: write not allowed"
        for workflow in ctx.workflows
        for job in workflow.jobs.values()
        for scope, level in (job.permissions if isinstance(job.permissions, dict) else {}).items()
        if level == "write" and job.id not in allowed.get((workflow.name, scope), ())
    ]
    named = {*contract.id_token_jobs, *contract.attestations_write_jobs,
             *contract.contents_write_jobs}  # fmt: skip
    missing = sorted(named - set(ctx.release.jobs))
    return found + [f"contract names job {j}, which release.yml lacks" for j in missing]


def timeouts(ctx: Context) -> list[str]:
    """every job sets `timeout-minutes`"""
    return [
        f"{workflow.name} job {job.id}: no timeout-minutes"
        for workflow in ctx.workflows
        for job in workflow.jobs.values()
        if not isinstance(job.data.get("timeout-minutes"), int)
    ]


def tag_runs_not_cancelled(ctx: Context) -> list[str]:
    """release.yml and docs.yml (which run on tags) cancel only pull-request runs (zizmor's
    concurrency-limits audit requires the concurrency group)"""
    pull_requests_only = (False, "${{ github.event_name == 'pull_request' }}")
    return [
        f"{w.name}: cancel-in-progress may cancel a tag run"
        for w in (ctx.release, ctx.docs)
        if (w.data.get("concurrency") or {}).get("cancel-in-progress") not in pull_requests_only
    ]


def triggers(ctx: Context) -> list[str]:
    """ci.yml: push to main + pull_request; release.yml: push of tags only + pull_request
    (zizmor's dangerous-triggers audit forbids pull_request_target and workflow_run)"""
    ci_push, release_push = (w.triggers.get("push") or {} for w in (ctx.ci, ctx.release))
    return failing(
        *[("pull_request" in w.triggers, f"{w.name}: not run on pull requests")
          for w in ctx.workflows],
        ("main" in (ci_push.get("branches") or []), "ci.yml: not run on pushes to main"),
        ("tags" not in ci_push, "ci.yml runs on tags, where its caches could feed a release"),
        (set(release_push) == {"tags"}, "release.yml: push trigger is not only tags"),
    )  # fmt: skip


def thin_steps(ctx: Context) -> list[str]:
    """every `run:` step in release.yml is a single command (the checks live in `release`)"""
    return [
        f"release.yml {step.label}: {len(run_commands(step.run))} commands in one step"
        for job in ctx.release.jobs.values()
        for step in job.steps
        if len(run_commands(step.run)) > MAX_RUN_COMMANDS
    ]


def update_proposals(ctx: Context) -> list[str]:
    """Dependabot proposes grouped weekly updates for GitHub Actions, Cargo and uv; ci.yml runs
    zizmor online (impostor commits, known-vulnerable actions) with the workflow token"""
    import yaml

    try:
        config, found = yaml.safe_load(ctx.project.text(DEPENDABOT)) or {}, []
    except ReleaseError as exc:
        config, found = {}, [str(exc)]
    updates = {u.get("package-ecosystem"): u for u in config.get("updates") or []}
    for ecosystem in UPDATED_ECOSYSTEMS:
        update = updates.get(ecosystem) or {}
        found += failing(
            (update, f"{DEPENDABOT}: no updates for {ecosystem}"),
            (not update or (update.get("schedule") or {}).get("interval") == "weekly",
             f"{DEPENDABOT}: {ecosystem} updates are not weekly"),
            (not update or update.get("groups"),
             f"{DEPENDABOT}: {ecosystem} updates are not grouped"),
        )  # fmt: skip
    online = [s for job in ctx.ci.jobs.values() for s in job.steps
              if "zizmor" in s.run and "--offline" not in s.run]  # fmt: skip
    return found + failing(
        (online, "ci.yml does not run zizmor online"),
        *[((s.data.get("env") or {}).get("GH_TOKEN") == "${{ github.token }}",
           f"ci.yml {s.label}: online zizmor without GH_TOKEN: github.token") for s in online],
    )  # fmt: skip


RULES = rules(
    write_scopes,
    timeouts,
    tag_runs_not_cancelled,
    triggers,
    thin_steps,
    update_proposals,
)
