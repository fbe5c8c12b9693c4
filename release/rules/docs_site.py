"""The rule on the documentation workflow: a strict, locked MkDocs build everywhere, and a
GitHub Pages deployment only for a pushed release tag (zizmor's cache-poisoning audit
keeps caches out of it)."""

from __future__ import annotations

from release import release_files
from release.rules.base import TAG_CONDITION, Context, failing, rules, unrun

BUILD_COMMAND = "uv run --locked --only-group docs mkdocs build --strict"
UPLOAD_PAGES = "actions/upload-pages-artifact"
DEPLOY_PAGES = "actions/deploy-pages"


def docs_site(ctx: Context) -> list[str]:
    """docs.yml builds the MkDocs site (`mkdocs build --strict`, locked docs group) on pull
    requests, main and tags, and deploys it to GitHub Pages (github-pages environment) only for a
    pushed tag"""
    workflow, pattern = ctx.docs, ctx.contract.tag_pattern
    build, deploy = workflow.job("build"), workflow.job("deploy")
    tags = (workflow.triggers.get("push") or {}).get("tags") or []
    pages = build.steps_using(UPLOAD_PAGES)
    return unrun(build, BUILD_COMMAND) + failing(
        (pattern in tags and "pull_request" in workflow.triggers,
         f"docs.yml is not run on pull requests and tags {pattern}"),
        (len(pages) == 1 and pages[0].condition == TAG_CONDITION,
         f"docs.yml uploads the Pages site other than once, for a tag ({UPLOAD_PAGES})"),
        (deploy.condition == TAG_CONDITION and "build" in deploy.needs,
         "docs.yml deploy job does not run after build for tag pushes only"),
        ((deploy.environment or {}).get("name") == "github-pages",
         "docs.yml deploy job is not in the github-pages environment"),
        (deploy.steps_using(DEPLOY_PAGES), f"docs.yml deploy job does not use {DEPLOY_PAGES}"),
    )  # fmt: skip


def release_files_documented(ctx: Context) -> list[str]:
    """the file counts and the file table of docs/releasing.md and README.md are the generated
    blocks from the manifest (`python -m release compliance` rewrites them)"""
    return release_files.problems(ctx.project, ctx.contract)


RULES = rules(
    docs_site,
    release_files_documented,
)
