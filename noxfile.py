"""Every check, defined once, as a nox session; `.ci/run` and ci.yml run them.

`.ci/run` runs them here; ci.yml builds its job matrix from `nox --list --json` (every
default session on ubuntu-24.04, those tagged ``all-os`` on macOS and Windows as well).

    .ci/nox --list          # the sessions and what each runs
    .ci/nox -s lint         # one session (`.ci/nox` is `uvx nox==<pinned>`)

uv is the virtual-environment backend: each session that needs Python syncs the locked
project (or one locked dependency group) into its own `.nox/<session>` venv; nothing is
installed by hand. Which session runs which tests: README.md, "Continuous integration".
Under ``CI=true`` nothing skips into a green run: a session whose prerequisite is missing
fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent

#: The CPythons `tests-<python>` runs on (README command 2 on each); the first one also
#: runs the other sessions that need Python.
PYTHONS = ["3.12", "3.13"]
DEFAULT_PYTHON = PYTHONS[0]

#: Test directories owned by a session of their own, so `tests-<python>` leaves them out
#: (every other directory under tests/, e.g. a new suite, runs in `tests-<python>`).
OWNED_TESTS = {
    "reliability": "tests/reliability",
    "interop": "tests/interop",
    "stub": "tests/stub",
    "docs": "tests/docs",
    "release": "tests/release",  # run by .ci/release-gates
}

#: Sessions ci.yml does not run (``default=False`` keeps them out of `nox --list --json`),
#: each with its reason. The compliance rule `ci-sessions` checks this table.
LOCAL_ONLY = {
    "suite": "README command 2 verbatim (the whole suite on 3.12, one process); on GitHub "
    "its parts run as parallel jobs: tests-3.12, reliability, interop, stub, docs "
    "and release",
}

#: What each session installs, read by `release check-installs` to resolve every hosted
#: job's installs for its runner and Python: dependency groups of pyproject.toml ("project"
#: is the package with its own dependencies) and requirement specifiers (bench/run's
#: `--with`). A session missing here fails that check.
INSTALLS = {
    "lint": ["project", "dev"],
    "rust": [],
    "tests": ["project", "dev"],
    "suite": ["project", "dev"],
    "reliability": ["project", "dev"],
    "interop": ["project", "dev"],
    "uvloop": ["project", "dev"],
    "stub": ["project", "dev"],
    "docs": ["docs", "project", "dev"],
    "release": ["release"],
    "bench-quick": ["matplotlib>=3.9,<4"],
}

#: Set by the interop session: a browser that cannot start fails the test, never skips.
BROWSER_ENV = "WEB_TRANSPORT_REQUIRE_BROWSER"


def _sync(session: nox.Session) -> dict[str, str]:
    """Install the locked project with the dev group into the session's venv; the
    environment that points `uv run` at that venv and its interpreter."""
    env = {
        "UV_PROJECT_ENVIRONMENT": str(session.virtualenv.location),
        "UV_PYTHON": str(session.python),
    }
    session.run_install("uv", "sync", "--locked", env=env, external=True)
    return env


def _pyo3_env(session: nox.Session) -> dict[str, str]:
    """PYO3_PYTHON (the base interpreter, as `.ci/run` always gave it, so cargo's
    artefacts stay fresh) and the directory of its libpython for the test binaries."""
    code = (
        "import sys, sysconfig; "
        "print(sys._base_executable); print(sysconfig.get_config_var('LIBDIR'))"
    )
    out = session.run("python", "-c", code, silent=True) or ""
    base, libdir = str(out).strip().splitlines()[-2:]
    path = os.pathsep.join(p for p in (libdir, os.environ.get("LD_LIBRARY_PATH", "")) if p)
    return {"PYO3_PYTHON": base, "LD_LIBRARY_PATH": path}


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """cargo fmt, clippy -D warnings, ruff format, ruff check, ty.

    Installs: the locked project + dev group (ruff, ty) into its venv; Rust from
    rust-toolchain.toml (rustup)."""
    env = _pyo3_env(session)
    session.run("cargo", "fmt", "--all", "--check", external=True)
    session.run(
        "cargo", "clippy", "--all-targets", "--locked", "--", "-D", "warnings",
        env=env, external=True,
    )  # fmt: skip
    env = _sync(session)
    session.run("uv", "run", "ruff", "format", "--check", env=env, external=True)
    session.run("uv", "run", "ruff", "check", env=env, external=True)
    # The package and its tests; release/ is type-checked by the release gates against
    # their own pinned tools, bench/impls against each peer's own venv.
    session.run("uv", "run", "ty", "check", "python", "tests", env=env, external=True)


@nox.session(python=DEFAULT_PYTHON)
def rust(session: nox.Session) -> None:
    """cargo test (the binding's unit tests, then the gate's expansion tests), then clippy
    against free-threaded 3.14t and 3.15t.

    The free-threaded gates are .ci/free-threaded-check. Installs: nothing but an empty venv
    (its interpreter links the test binaries); Rust from rust-toolchain.toml."""
    env = _pyo3_env(session)
    session.run("cargo", "test", "--locked", env=env, external=True)
    session.run("cargo", "test", "--locked", "-p", "web-transport-py-gate", env=env, external=True)
    for version in ("3.14", "3.15"):
        session.run("bash", ".ci/free-threaded-check", version, external=True)


def _readme_commands(session: nox.Session, *pytest_args: str) -> None:
    env = _sync(session)
    session.run("uv", "run", "web-transport", "demo", env=env, external=True)
    session.run("uv", "run", "pytest", *pytest_args, *session.posargs, env=env, external=True)


@nox.session(python=PYTHONS, tags=["all-os"])
def tests(session: nox.Session) -> None:
    """README commands 1 and 2, without the test directories other sessions own.

    `uv run web-transport demo`, then `uv run pytest --ignore=...` (OWNED_TESTS): that is
    tests/unit, tests/integration and any new suite. Installs: the locked project + dev
    group."""
    ignored = [f"--ignore={d}" for d in OWNED_TESTS.values()]
    _readme_commands(session, *ignored)


@nox.session(python=DEFAULT_PYTHON, default=False)
def suite(session: nox.Session) -> None:
    """README commands 1 and 2 verbatim: `uv run pytest`, every suite (local only).

    What `.ci/run` runs in place of tests-3.12, reliability, interop, stub and docs'
    tests/docs (and tests/release, which the release gates run again). Installs: the locked
    project + dev group."""
    _readme_commands(session)


def _owned_tests(session: nox.Session, name: str, env: dict[str, str] | None = None) -> None:
    """`uv run pytest` on the test directory the session ``name`` owns."""
    env = {**_sync(session), **(env or {})}
    session.run("uv", "run", "pytest", OWNED_TESTS[name], *session.posargs, env=env, external=True)


@nox.session(python=DEFAULT_PYTHON)
def reliability(session: nox.Session) -> None:
    """tests/reliability: faults, load, bad input, clean exit (the 1,000-exit probe).

    Installs: the locked project + dev group."""
    _owned_tests(session, "reliability")


@nox.session(python=DEFAULT_PYTHON)
def uvloop(session: nox.Session) -> None:
    """tests/integration once more, every test on a uvloop event loop (`--loop=uvloop`).

    A uvloop that cannot be imported is a usage error (the run fails, never falls back to
    the default loop). Installs: the locked project + dev group (uvloop)."""
    env = _sync(session)
    session.run(
        "uv", "run", "pytest", "tests/integration", "--loop=uvloop", *session.posargs,
        env=env, external=True,
    )  # fmt: skip


@nox.session(python=DEFAULT_PYTHON)
def interop(session: nox.Session) -> None:
    """tests/interop: Chromium, Firefox and aioquic peers; a missing browser fails.

    Chromium through Playwright, Firefox through Selenium and geckodriver. Installs: the
    locked project + dev group (playwright, selenium, aioquic); the browsers are Debian's
    (.ci/install-browsers) or those WEB_TRANSPORT_CHROMIUM, WEB_TRANSPORT_FIREFOX and
    WEB_TRANSPORT_GECKODRIVER name (ci.yml: the runner image's)."""
    _owned_tests(session, "interop", {BROWSER_ENV: "1"})


@nox.session(python=DEFAULT_PYTHON)
def stub(session: nox.Session) -> None:
    """tests/stub: mypy.stubtest compares the stub with the built module.

    Installs: the locked project + dev group (mypy)."""
    _owned_tests(session, "stub")


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """mkdocs build --strict, python -m docs.generate --check, tests/docs (the rendered site).

    Strict: broken links, unknown anchors and missing API references fail; --check: the
    generated errors.md and interop.md are current; tests/docs reads the built site and
    screenshots it in Chromium into target/site-screenshots/. `-- --no-tests` leaves
    tests/docs out (`.ci/run`, whose `suite` runs it). Installs: the locked docs group
    (mkdocs, mkdocstrings) into target/docs-venv, shared with tests/docs; the locked project
    + dev group into its venv."""
    docs_venv = str(ROOT / "target" / "docs-venv")
    docs_env = {
        "UV_PROJECT_ENVIRONMENT": docs_venv,
        "VIRTUAL_ENV": docs_venv,  # not nox's: uv would warn that it is not the project's
        "UV_PYTHON": str(session.python),
        "NO_MKDOCS_2_WARNING": "1",
    }
    session.run(
        "uv", "run", "--locked", "--only-group", "docs",
        "mkdocs", "build", "--strict", "--site-dir", str(ROOT / "target" / "site"),
        env=docs_env, external=True,
    )  # fmt: skip
    env = _sync(session)
    session.run("uv", "run", "python", "-m", "docs.generate", "--check", env=env, external=True)
    tests = OWNED_TESTS["docs"]
    if "--no-tests" in session.posargs:
        session.log(f"{tests}: left out (--no-tests)")
    elif not (ROOT / tests).is_dir():
        session.log(f"{tests}: no such directory, nothing to run")
    else:
        session.run("uv", "run", "pytest", tests, env=env, external=True)


@nox.session(python=False)
def release(session: nox.Session) -> None:
    """.ci/release-gates: workflow linters, compliance, tests/release, the rehearsal.

    Installs: the locked release group, in its own venv (target/release-tools-venv)."""
    session.run("bash", ".ci/release-gates", external=True)


@nox.session(name="bench-quick", python=False)
def bench_quick(session: nox.Session) -> None:
    """bench/run --quick: the benchmark harness against every peer, small sizes.

    Installs: each peer's own venv under bench/.venvs (bench/README.md)."""
    session.run("bash", "bench/run", "--quick", external=True)
