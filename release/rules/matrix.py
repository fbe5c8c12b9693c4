"""Rules tying the workflow matrices to the contract: what is built, where, and tested how."""

from __future__ import annotations

from typing import Any

from release.contract import Target
from release.rules.base import Context, Rule
from release.workflows import Job

MATURIN_ACTION = "PyO3/maturin-action"
UPLOAD = "actions/upload-artifact"
QEMU_ACTION = "docker/setup-qemu-action"


def _norm(value: Any) -> str:
    return "" if value is None else str(value)


def _uploaded_names(job: Job) -> list[str]:
    return [str(s.with_.get("name", "")) for s in job.steps_using(UPLOAD)]


def _runs(job: Job, needle: str) -> bool:
    return any(needle in s.run for s in job.steps)


def build_matrix(ctx: Context) -> list[str]:
    """The release workflow builds exactly the contract's targets, the sdist, and a wheel
    from the sdist, each where and how the contract says."""
    contract = ctx.contract
    workflow = ctx.release
    found: list[str] = []
    wheels = workflow.job("wheels")
    include = wheels.matrix.get("include") or []
    actual = {
        (
            _norm(e.get("id")),
            _norm(e.get("runner")),
            _norm(e.get("target")),
            _norm(e.get("manylinux")),
        )
        for e in include
    }
    expected = {(t.id, t.runner, t.rust_target, _norm(t.manylinux)) for t in contract.targets}
    for missing in sorted(expected - actual):
        found.append(f"wheels matrix lacks {missing} (id, runner, target, manylinux)")
    for extra in sorted(actual - expected):
        found.append(f"wheels matrix has {extra}, not in the contract")
    macos = [t for t in contract.targets if t.macos_deployment_target]
    env = (wheels.data.get("env") or {}).get("MACOSX_DEPLOYMENT_TARGET")
    for target in macos:
        if _norm(env) != target.macos_deployment_target:
            found.append(
                f"wheels env MACOSX_DEPLOYMENT_TARGET is {env!r}, contract says "
                f"{target.macos_deployment_target!r}"
            )
    steps = wheels.steps_using(MATURIN_ACTION)
    if len(steps) != 1:
        found.append(f"wheels job has {len(steps)} maturin-action steps, expected 1")
    for step in steps:
        if step.with_.get("target") != "${{ matrix.target }}":
            found.append(f"{step.label}: target is not ${{{{ matrix.target }}}}")
        if step.with_.get("manylinux") != "${{ matrix.manylinux }}":
            found.append(f"{step.label}: manylinux is not ${{{{ matrix.manylinux }}}}")
    if "dist-${{ matrix.id }}" not in _uploaded_names(wheels):
        found.append("wheels job does not upload artifact dist-${{ matrix.id }}")
    sdist = workflow.job("sdist")
    if not any(s.with_.get("command") == "sdist" for s in sdist.steps_using(MATURIN_ACTION)):
        found.append("sdist job does not run maturin sdist")
    if "dist-sdist" not in _uploaded_names(sdist):
        found.append("sdist job does not upload artifact dist-sdist")
    found += _sdist_wheel(ctx, contract.sdist_wheel)
    return found


def _sdist_wheel(ctx: Context, target: Target) -> list[str]:
    found: list[str] = []
    job = ctx.release.job("sdist-wheel")
    if "sdist" not in job.needs:
        found.append("sdist-wheel job does not need the sdist job")
    if job.data.get("runs-on") != target.runner:
        found.append(
            f"sdist-wheel runs on {job.data.get('runs-on')!r}, contract says {target.runner!r}"
        )
    builds = job.steps_using(MATURIN_ACTION)
    if not builds or _norm(builds[0].with_.get("manylinux")) != _norm(target.manylinux):
        found.append(f"sdist-wheel does not build with manylinux {target.manylinux}")
    if not builds or not builds[0].with_.get("working-directory"):
        found.append("sdist-wheel does not build inside the unpacked sdist")
    if target.id not in _uploaded_names(job):
        found.append(f"sdist-wheel job does not upload artifact {target.id}")
    return found


def wheel_tests_matrix(ctx: Context) -> list[str]:
    """Every wheel (and the wheel built from the sdist) is tested on every contract Python,
    on the contract's runners and CPUs, natively or under QEMU as the contract says."""
    contract = ctx.contract
    workflow = ctx.release
    found: list[str] = []
    job = workflow.job("test")
    pythons = [str(p) for p in job.matrix.get("python", [])]
    if sorted(pythons) != sorted(contract.pythons):
        found.append(f"test matrix Pythons {pythons}, contract says {list(contract.pythons)}")
    actual = {
        (
            _norm(p.get("artifact")),
            _norm(p.get("runner")),
            _norm(p.get("machine")),
            _norm(p.get("via")),
        )
        for p in job.matrix.get("platform", [])
    }
    expected = {
        (f"dist-{t.id}", run.runner, run.machine, run.via)
        for t in contract.targets
        for run in t.tests
    } | {
        (contract.sdist_wheel.id, run.runner, run.machine, run.via)
        for run in contract.sdist_wheel.tests
    }
    for missing in sorted(expected - actual):
        found.append(f"test matrix lacks {missing} (artifact, runner, machine, via)")
    for extra in sorted(actual - expected):
        found.append(f"test matrix has {extra}, not in the contract")
    for needed in ("wheels", "sdist-wheel"):
        if needed not in job.needs:
            found.append(f"test job does not need {needed}")
    command = "python -m release test-installed --dist dist"
    if not _runs(job, command):
        found.append(f"test job does not run `{command}`")
    for option in ('--python "$PY"', '--expect-machine "$MACHINE"', '--via "$VIA"'):
        if not _runs(job, option):
            found.append(f"test job's test-installed lacks {option}")
    uses_qemu = any(run.via == "qemu" for t in contract.targets for run in t.tests)
    if uses_qemu and not job.steps_using(QEMU_ACTION):
        found.append("test job has no QEMU (binfmt) setup step for the qemu entries")
    smoke = workflow.job("smoke-testpypi")
    smoke_pythons = [str(p) for p in smoke.matrix.get("python", [])]
    if sorted(smoke_pythons) != sorted(contract.pythons):
        found.append(
            f"smoke-testpypi Pythons {smoke_pythons}, contract says {list(contract.pythons)}"
        )
    return found


def ci_matrix(ctx: Context) -> list[str]:
    """CI builds a wheel on Linux, macOS and Windows and tests that installed wheel on every
    contract Python."""
    contract = ctx.contract
    found: list[str] = []
    build = ctx.ci.job("build")
    test = ctx.ci.job("test")
    runners = sorted(contract.ci_runners)
    if sorted(build.matrix.get("runner", [])) != runners:
        found.append(f"ci build runners {build.matrix.get('runner')}, contract says {runners}")
    if sorted(test.matrix.get("runner", [])) != runners:
        found.append(f"ci test runners {test.matrix.get('runner')}, contract says {runners}")
    pythons = [str(p) for p in test.matrix.get("python", [])]
    if sorted(pythons) != sorted(contract.pythons):
        found.append(f"ci test Pythons {pythons}, contract says {list(contract.pythons)}")
    oses = {
        ("windows" if "windows" in r else "macos" if "macos" in r else "linux") for r in runners
    }
    if oses != {"linux", "macos", "windows"}:
        found.append(f"ci runners cover {sorted(oses)}, not Linux, macOS and Windows")
    if not build.steps_using(MATURIN_ACTION):
        found.append("ci build job does not build a wheel with maturin-action")
    if "build" not in test.needs:
        found.append("ci test job does not need the build job")
    command = "python -m release test-installed --dist dist"
    if not _runs(test, command):
        found.append(f"ci test job does not run `{command}` (tests must use the built wheel)")
    return found


RULES = [
    Rule(
        "matrix-build",
        "release.yml's wheels matrix equals the contract targets (id, runner, Rust target, "
        "manylinux level), MACOSX_DEPLOYMENT_TARGET matches, and the sdist and a wheel built "
        "from the unpacked sdist are produced",
        build_matrix,
    ),
    Rule(
        "matrix-test",
        "release.yml's test matrix equals contract Pythons x contract test runs (runner, CPU, "
        "native or QEMU) for every wheel and the sdist-built wheel; the TestPyPI smoke test "
        "covers every contract Python",
        wheel_tests_matrix,
    ),
    Rule(
        "matrix-ci",
        "ci.yml builds a wheel on the contract's Linux, macOS and Windows runners and tests the "
        "installed wheel on every contract Python",
        ci_matrix,
    ),
]
