"""Rules pinning every tool that builds or installs a shipped file, beyond the actions' SHAs."""

from __future__ import annotations

import re

from release.build_settings import BUILD_CONSTRAINTS as CONSTRAINTS
from release.build_settings import UV_VERSION
from release.rules.base import (
    CIBW_ENVIRONMENTS,
    MATURIN_ACTION,
    PUBLISH,
    Context,
    failing,
    rules,
)

SETUP_UV = "astral-sh/setup-uv"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def uv_pinned(ctx: Context) -> list[str]:
    """every setup-uv step has `version:` equal to release/build_settings.py UV_VERSION (the sid
    roots install the same uv)"""
    return [
        f"{workflow.name} {step.label}: setup-uv version {step.with_.get('version')!r}, "
        f"expected {UV_VERSION!r} (release/build_settings.py UV_VERSION)"
        for workflow, step in ctx.steps(SETUP_UV)
        if str(step.with_.get("version", "")) != UV_VERSION
    ]


def _free_threaded_env(ctx: Context) -> dict[str, str]:
    job = ctx.release.jobs.get("free-threaded-wheels")
    return {str(k): str(v) for k, v in ((job.data.get("env") or {}) if job else {}).items()}


def maturin_in_cibuildwheel(ctx: Context) -> list[str]:
    """cibuildwheel's isolated build gets maturin from .github/build-constraints.txt (exactly the
    contract's version) via PIP_CONSTRAINT and UV_CONSTRAINT on every OS; `inspect` checks each
    wheel's WHEEL Generator"""
    found: list[str] = []
    path = ctx.project.root / CONSTRAINTS
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if pins != [f"maturin=={ctx.contract.maturin}"]:
        found.append(f"{CONSTRAINTS} pins {pins}, expected ['maturin=={ctx.contract.maturin}']")
    env = _free_threaded_env(ctx)
    for key in CIBW_ENVIRONMENTS:
        for variable in ("PIP_CONSTRAINT", "UV_CONSTRAINT"):
            if not re.search(rf"\b{variable}=\S*{re.escape(CONSTRAINTS)}\b", env.get(key, "")):
                found.append(f"free-threaded-wheels {key} does not set {variable} to {CONSTRAINTS}")
    return found


def container_images(ctx: Context) -> list[str]:
    """maturin-action's Linux images are pinned by @sha256 digest, or the contract's
    [container_images] records pinning = tag with the reason"""
    settings = dict(ctx.contract.container_images)
    pinning, reason = settings.get("pinning"), settings.get("reason", "")
    if pinning == "tag":
        return [] if reason.strip() else ["contract [container_images] pinning = tag, no reason"]
    if pinning != "digest":
        return [f"contract [container_images] pinning is {pinning!r}, not 'digest' or 'tag'"]
    return [
        f"{workflow.name} {step.label}: container {step.with_.get('container')!r} has no digest"
        for workflow, step in ctx.steps(MATURIN_ACTION)
        if "manylinux" in step.with_ and not DIGEST.search(str(step.with_.get("container", "")))
    ]


def windows_repair(ctx: Context) -> list[str]:
    """cibuildwheel's Windows repair is off as the contract's [repair] says (no delvewheel;
    `inspect` fails on a bundled .dll or .libs/)"""
    wanted = dict(ctx.contract.repair).get("windows")
    actual = _free_threaded_env(ctx).get("CIBW_REPAIR_WHEEL_COMMAND_WINDOWS")
    return failing(
        (wanted == "off", f"contract [repair] windows is {wanted!r}: only 'off' is checked"),
        (wanted != "off" or actual == "", f"CIBW_REPAIR_WHEEL_COMMAND_WINDOWS is {actual!r}"),
    )


def published_bytes(ctx: Context) -> list[str]:
    """before each upload the publish job runs `release check-published`: a file already on the
    index with other bytes fails (skip-existing would hide it)"""
    found: list[str] = []
    for env in ctx.contract.environments:
        job = ctx.release.jobs.get(env.job)
        steps = job.steps if job else []
        publish = next((s.index for s in steps if s.action == PUBLISH), len(steps))
        host = (env.upload_url or env.url).split("/")[2]
        wanted = f"python -m release check-published dist --index-url https://{host}/simple/"
        if not any(wanted in s.run for s in steps[:publish]):
            found.append(f"job {env.job} does not run `{wanted}` before {PUBLISH}")
    return found


RULES = rules(
    uv_pinned,
    maturin_in_cibuildwheel,
    container_images,
    windows_repair,
    published_bytes,
)
