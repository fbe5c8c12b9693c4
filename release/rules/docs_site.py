"""The rule on the documentation workflow: a strict, locked MkDocs build everywhere, and a
GitHub Pages deployment only for a pushed release tag, without caches."""

from __future__ import annotations

from release import release_files
from release.rules.base import Context, Rule

TAG_CONDITION = "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
BUILD_COMMAND = "uv run --locked --only-group docs mkdocs build --strict"
UPLOAD_PAGES = "actions/upload-pages-artifact"
DEPLOY_PAGES = "actions/deploy-pages"
CACHES = ("actions/cache", "swatinem/rust-cache", "mozilla-actions/sccache-action")


def docs_site(ctx: Context) -> list[str]:
    """docs.yml builds the site strictly with the locked docs group on pull requests, main
    and tags, and deploys it to GitHub Pages only for a pushed tag."""
    workflow = ctx.docs
    found: list[str] = []
    triggers = workflow.triggers
    tags = (triggers.get("push") or {}).get("tags") or []
    if ctx.contract.tag_pattern not in tags or "pull_request" not in triggers:
        found.append(f"docs.yml is not run on pull requests and tags {ctx.contract.tag_pattern}")
    build = workflow.job("build")
    if not any(BUILD_COMMAND in s.run for s in build.steps):
        found.append(f"docs.yml build job does not run `{BUILD_COMMAND}`")
    uploads = build.steps_using(UPLOAD_PAGES)
    if len(uploads) != 1 or uploads[0].condition != TAG_CONDITION:
        found.append(f"docs.yml uploads the Pages site other than once, for a tag ({UPLOAD_PAGES})")
    deploy = workflow.job("deploy")
    if deploy.condition != TAG_CONDITION or "build" not in deploy.needs:
        found.append("docs.yml deploy job does not run after build for tag pushes only")
    if (deploy.environment or {}).get("name") != "github-pages":
        found.append("docs.yml deploy job is not in the github-pages environment")
    if not deploy.steps_using(DEPLOY_PAGES):
        found.append(f"docs.yml deploy job does not use {DEPLOY_PAGES}")
    for job in workflow.jobs.values():
        for step in job.steps:
            if step.action.lower().startswith(CACHES):
                found.append(f"docs.yml {step.label}: cache action {step.action}")
            if step.action == "astral-sh/setup-uv" and step.with_.get("enable-cache") is not False:
                found.append(f"docs.yml {step.label}: setup-uv without enable-cache: false")
    return found


RULES = [
    Rule(
        "docs-site",
        "docs.yml builds the MkDocs site (`mkdocs build --strict`, locked docs group, no "
        "cache) on pull requests, main and tags, and deploys it to GitHub Pages "
        "(github-pages environment) only for a pushed tag",
        docs_site,
    ),
    Rule(
        "release-files-documented",
        "the file counts and the file table of docs/releasing.md and README.md are the generated "
        "blocks from the manifest (`python -m release compliance` rewrites them)",
        lambda ctx: release_files.problems(ctx.project, ctx.contract),
    ),
]
