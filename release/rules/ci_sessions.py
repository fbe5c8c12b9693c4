"""The rule that GitHub runs every check `.ci/run` runs: each nox session of noxfile.py is a
ci.yml job, or is listed in noxfile.py's ``LOCAL_ONLY`` with the reason it is not.

ci.yml's session jobs come from ``nox --list --json``, which lists the default sessions, so
the rule reads noxfile.py statically (no nox needed): every session is default unless
``LOCAL_ONLY`` names it with a reason, and ci.yml turns that list, unfiltered, into a job
per session on ubuntu-24.04 that runs ``.ci/nox -s "$SESSION"``.
"""

from __future__ import annotations

from release.errors import ReleaseError
from release.nox_sessions import NOXFILE, parse_noxfile
from release.rules.base import Context, Rule

LIST_COMMAND = ".ci/nox --list --json"
#: The jq expression that gives every listed session its ubuntu-24.04 job.
EVERY_SESSION = '.[] | {session, runner: "ubuntu-24.04"}'
RUN_COMMAND = '.ci/nox -s "$SESSION"'
SESSION_ENV = "${{ matrix.session }}"


def _hosted_jobs(ctx: Context) -> list[str]:
    """What keeps ci.yml from running every listed session on ubuntu-24.04."""
    jobs = ctx.ci.jobs
    lists = [
        job.id
        for job in jobs.values()
        if any(LIST_COMMAND in s.run and EVERY_SESSION in s.run for s in job.steps)
    ]
    if not lists:
        return [
            f"ci.yml has no job listing the sessions with `{LIST_COMMAND}` and `{EVERY_SESSION}`"
        ]
    runners = [
        job
        for job in jobs.values()
        if any(
            job.matrix_expression == "" and f"needs.{j}.outputs." in str(job.matrix.get("include"))
            for j in lists
        )
        and any(RUN_COMMAND in s.run for s in job.steps)
    ]
    if not runners:
        return [f"ci.yml has no job whose matrix is the session list and that runs `{RUN_COMMAND}`"]
    found = []
    for job in runners:
        env = {**(job.data.get("env") or {})}
        for step in job.steps:
            if RUN_COMMAND in step.run:
                env.update(step.data.get("env") or {})
        if env.get("SESSION") != SESSION_ENV:
            found.append(f"ci.yml {job.id}: SESSION is not {SESSION_ENV}")
    return found


def ci_sessions(ctx: Context) -> list[str]:
    """Every nox session is a ci.yml job, or LOCAL_ONLY names it with a reason."""
    try:
        sessions, local_only = parse_noxfile(ctx.project.text(NOXFILE))
    except (ReleaseError, SyntaxError) as exc:
        return [f"{NOXFILE}: {exc}"]
    if not sessions:
        return [f"{NOXFILE} defines no nox session"]
    found: list[str] = []
    names = {s.name for s in sessions}
    for session in sessions:
        if not session.default and session.name not in local_only:
            found.append(
                f"nox session {session.name} is not run by ci.yml (default=False) and "
                "LOCAL_ONLY gives no reason"
            )
        if session.default and session.name in local_only:
            found.append(f"LOCAL_ONLY names {session.name}, which ci.yml runs (default session)")
    for name, reason in local_only.items():
        if name not in names:
            found.append(f"LOCAL_ONLY names {name}, which is no nox session")
        if not str(reason).strip():
            found.append(f"LOCAL_ONLY gives no reason for {name}")
    return found + _hosted_jobs(ctx)


RULES = [
    Rule(
        "ci-sessions",
        "every nox session of noxfile.py (what `.ci/run` runs) is a ci.yml job, made from "
        "`nox --list --json` on ubuntu-24.04, or is listed in noxfile.py's LOCAL_ONLY with "
        "the reason it runs only locally",
        ci_sessions,
    )
]
