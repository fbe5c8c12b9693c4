"""The rule that GitHub runs every check `.ci/run` runs: each nox session of noxfile.py
(read statically) is a ci.yml job, made from ``nox --list --json`` (the default sessions) on
ubuntu-24.04 running ``.ci/nox -s "$SESSION"``, or ``LOCAL_ONLY`` names it with a reason."""

from __future__ import annotations

from release.errors import ReleaseError
from release.nox_sessions import NOXFILE, parse_noxfile
from release.rules.base import Context, failing, rules, unrun

LIST_COMMAND = ".ci/nox --list --json"
#: The jq expression that gives every listed session its ubuntu-24.04 job.
EVERY_SESSION = '.[] | {session, runner: "ubuntu-24.04"}'
RUN_COMMAND = '.ci/nox -s "$SESSION"'
SESSION_ENV = "${{ matrix.session }}"


def _hosted_jobs(ctx: Context) -> list[str]:
    """What keeps ci.yml from running every listed session: its sessions job lists them on
    ubuntu-24.04, its nox job's matrix is that list and runs each by name."""
    lister, runner = ctx.ci.job("sessions"), ctx.ci.job("nox")
    found = unrun(lister, LIST_COMMAND, EVERY_SESSION) + unrun(runner, RUN_COMMAND)
    if "needs.sessions.outputs." not in str(runner.matrix.get("include")):
        found.append("ci.yml nox job's matrix is not the session list")
    if (runner.data.get("env") or {}).get("SESSION") != SESSION_ENV:
        found.append(f"ci.yml nox job: SESSION is not {SESSION_ENV}")
    return found


def ci_sessions(ctx: Context) -> list[str]:
    """every nox session of noxfile.py (what `.ci/run` runs) is a ci.yml job, made from `nox --list
    --json` on ubuntu-24.04, or is listed in noxfile.py's LOCAL_ONLY with the reason it runs only
    locally"""
    try:
        sessions, local_only = parse_noxfile(ctx.project.text(NOXFILE))
    except (ReleaseError, SyntaxError) as exc:
        return [f"{NOXFILE}: {exc}"]
    if not sessions:
        return [f"{NOXFILE} defines no nox session"]
    names = {s.name for s in sessions}
    return failing(
        *[(s.default or s.name in local_only,
           f"nox session {s.name} is not run by ci.yml and LOCAL_ONLY gives no reason")
          for s in sessions],
        *[(not s.default or s.name not in local_only,
           f"LOCAL_ONLY names {s.name}, which ci.yml runs (default session)") for s in sessions],
        *[(name in names, f"LOCAL_ONLY names {name}, which is no nox session")
          for name in local_only],
        *[(str(reason).strip(), f"LOCAL_ONLY gives no reason for {name}")
          for name, reason in local_only.items()],
    ) + _hosted_jobs(ctx)  # fmt: skip


RULES = rules(
    ci_sessions,
)
