"""Rules tying the workflow matrices to the contract: what is built, where, and tested how."""

from __future__ import annotations

import re
from typing import Any

from release.contract import FreeThreaded, Target
from release.rules.base import Context, Rule
from release.workflows import Job

MATURIN_ACTION = "PyO3/maturin-action"
UPLOAD = "actions/upload-artifact"
DOWNLOAD = "actions/download-artifact"
QEMU_ACTION = "docker/setup-qemu-action"


def _norm(value: Any) -> str:
    return "" if value is None else str(value)


def _uploaded_names(job: Job) -> list[str]:
    return [str(s.with_.get("name", "")) for s in job.steps_using(UPLOAD)]


def _runs(job: Job, needle: str) -> bool:
    return any(needle in s.run for s in job.steps)


#: release.yml job -> the verify output its matrix is read from.
MATRIX_OUTPUTS = {
    "wheels": "build",
    "test": "test",
    "smoke-testpypi": "smoke",
    "free-threaded-wheels": "free_threaded",
}
CIBUILDWHEEL = "pypa/cibuildwheel"
CIBW_ENVIRONMENTS = ("CIBW_ENVIRONMENT_LINUX", "CIBW_ENVIRONMENT_MACOS", "CIBW_ENVIRONMENT_WINDOWS")
MATRIX_COMMAND = 'python -m release matrix --github-output "$GITHUB_OUTPUT"'
#: cibuildwheel 4.2 raises MACOSX_DEPLOYMENT_TARGET to these floors for CPython 3.14 and
#: later (cibuildwheel/platforms/macos.py), and maturin tags the wheel with the raised value.
CIBW_MACOS_FLOORS = {"x86_64": (10, 15), "arm64": (11, 0)}


def matrices_from_contract(ctx: Context) -> list[str]:
    """The verify job emits the matrices from the contract; the wheels, test and smoke jobs
    read them with fromJSON, and their steps use the matrix fields."""
    workflow = ctx.release
    found: list[str] = []
    verify = workflow.job("verify")
    emitting = [s for s in verify.steps if MATRIX_COMMAND in s.run]
    if not emitting:
        found.append(f"verify job does not run `{MATRIX_COMMAND}`")
    step_id = str(emitting[0].data.get("id", "")) if emitting else ""
    outputs = verify.data.get("outputs") or {}
    for job_id, output in MATRIX_OUTPUTS.items():
        wanted = f"${{{{ steps.{step_id}.outputs.{output} }}}}"
        if outputs.get(output) != wanted:
            found.append(f"verify job output {output} is not {wanted}")
        job = workflow.job(job_id)
        expression = f"${{{{ fromJSON(needs.verify.outputs.{output}) }}}}"
        if job.matrix_expression != expression:
            found.append(f"{job_id} job's matrix is not {expression}")
        if "verify" not in job.needs:
            found.append(f"{job_id} job does not need verify (its matrix comes from there)")
    return found


def build_steps(ctx: Context) -> list[str]:
    """The wheels job builds each matrix entry's target at its level and deployment target;
    the sdist and a wheel built from the unpacked sdist are produced."""
    workflow = ctx.release
    found: list[str] = []
    wheels = workflow.job("wheels")
    env = (wheels.data.get("env") or {}).get("MACOSX_DEPLOYMENT_TARGET")
    if env != "${{ matrix.macos-deployment-target }}":
        found.append(
            "wheels env MACOSX_DEPLOYMENT_TARGET is not ${{ matrix.macos-deployment-target }}"
        )
    steps = wheels.steps_using(MATURIN_ACTION)
    if len(steps) != 1:
        found.append(f"wheels job has {len(steps)} maturin-action steps, expected 1")
    for step in steps:
        if step.with_.get("target") != "${{ matrix.target }}":
            found.append(f"{step.label}: target is not ${{{{ matrix.target }}}}")
        if step.with_.get("manylinux") != "${{ matrix.manylinux }}":
            found.append(f"{step.label}: manylinux is not ${{{{ matrix.manylinux }}}}")
    if wheels.data.get("runs-on") != "${{ matrix.runner }}":
        found.append("wheels job does not run on ${{ matrix.runner }}")
    if "dist-${{ matrix.id }}" not in _uploaded_names(wheels):
        found.append("wheels job does not upload artifact dist-${{ matrix.id }}")
    sdist = workflow.job("sdist")
    if not any(s.with_.get("command") == "sdist" for s in sdist.steps_using(MATURIN_ACTION)):
        found.append("sdist job does not run maturin sdist")
    if "dist-sdist" not in _uploaded_names(sdist):
        found.append("sdist job does not upload artifact dist-sdist")
    found += _sdist_wheel(ctx, ctx.contract.sdist_wheel)
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


def test_steps(ctx: Context) -> list[str]:
    """The test job installs each matrix entry's wheel and tests it on the entry's runner,
    CPU, Python, emulation and container; QEMU is set up for the QEMU entries."""
    contract = ctx.contract
    found: list[str] = []
    job = ctx.release.job("test")
    for needed in ("wheels", "sdist-wheel"):
        if needed not in job.needs:
            found.append(f"test job does not need {needed}")
    if job.data.get("runs-on") != "${{ matrix.runner }}":
        found.append("test job does not run on ${{ matrix.runner }}")
    downloads = job.steps_using(DOWNLOAD)
    if not any(s.with_.get("name") == "${{ matrix.artifact }}" for s in downloads):
        found.append("test job does not download ${{ matrix.artifact }}")
    env = job.data.get("env") or {}
    for var, field in (("PY", "python"), ("MACHINE", "machine"), ("VIA", "via"),
                       ("CONTAINER", "container")):  # fmt: skip
        if env.get(var) != f"${{{{ matrix.{field} }}}}":
            found.append(f"test job env {var} is not ${{{{ matrix.{field} }}}}")
    command = "python -m release test-installed --dist dist"
    if not _runs(job, command):
        found.append(f"test job does not run `{command}`")
    for option in ('--python "$PY"', '--expect-machine "$MACHINE"', '--via "$VIA"',
                   '--container "$CONTAINER"'):  # fmt: skip
        if not _runs(job, option):
            found.append(f"test job's test-installed lacks {option}")
    targets = (*contract.targets, contract.sdist_wheel)
    if any(run.via == "qemu" for t in targets for run in t.tests):
        qemu = job.steps_using(QEMU_ACTION)
        if not qemu or qemu[0].condition != "matrix.via == 'qemu'":
            found.append("test job has no QEMU (binfmt) setup step for the qemu entries")
    return found


def free_threaded(ctx: Context) -> list[str]:
    """The free-threaded wheels (every contract free-threaded Python: cp314t, cp315t) are
    built by cibuildwheel with the maturin backend and Cargo.lock enforced, repaired to
    exactly the image's policy, and tested by cibuildwheel with the installed-wheel suite
    and the locked test group."""
    ft = ctx.contract.free_threaded
    if ft is None:
        return []
    found: list[str] = []
    # Exactly one `cpXYt-*` selector per contract Python: no other interpreter, none missing.
    if ft.build.split() != ft.selector.split():
        found.append(
            f"contract free_threaded.build {ft.build!r} does not select exactly "
            f"{', '.join(ft.abis)} ({ft.selector!r})"
        )
    job = ctx.release.job("free-threaded-wheels")
    env = job.data.get("env") or {}
    built = str(env.get("CIBW_BUILD", "")).split()
    if built != ft.build.split():
        found.append(
            f"free-threaded-wheels CIBW_BUILD is {env.get('CIBW_BUILD')!r}, not {ft.build!r}"
        )
    for abi in ft.abis:
        if f"{abi}-*" not in built:
            found.append(f"free-threaded-wheels CIBW_BUILD does not build {abi}")
    if env.get("CIBW_ARCHS") != "${{ matrix.archs }}":
        found.append("free-threaded-wheels CIBW_ARCHS is not ${{ matrix.archs }}")
    for key in CIBW_ENVIRONMENTS:
        if 'MATURIN_PEP517_ARGS="--locked"' not in str(env.get(key, "")):
            found.append(f'free-threaded-wheels {key} lacks MATURIN_PEP517_ARGS="--locked"')
    found += _macos_tags(ft, str(env.get("CIBW_ENVIRONMENT_MACOS", "")))
    if "--only-plat" not in str(env.get("CIBW_REPAIR_WHEEL_COMMAND_LINUX", "")):
        found.append(
            "free-threaded-wheels does not repair Linux wheels to exactly the image's policy"
        )
    if "--require-hashes" not in str(env.get("CIBW_BEFORE_TEST", "")):
        found.append("free-threaded-wheels does not install the locked test group (hashes)")
    if "pytest" not in str(env.get("CIBW_TEST_COMMAND", "")) or not all(
        suite in str(env.get("CIBW_TEST_COMMAND", ""))
        for suite in ("tests/unit", "tests/integration")
    ):
        found.append("free-threaded-wheels does not test with tests/unit and tests/integration")
    if not _runs(job, "python -m release test-requirements"):
        found.append("free-threaded-wheels does not export the locked test requirements")
    if len(job.steps_using(CIBUILDWHEEL)) != 1:
        found.append(f"free-threaded-wheels does not build with one {CIBUILDWHEEL} step")
    if "dist-${{ matrix.id }}" not in _uploaded_names(job):
        found.append("free-threaded-wheels does not upload artifact dist-${{ matrix.id }}")
    if job.data.get("runs-on") != "${{ matrix.runner }}":
        found.append("free-threaded-wheels does not run on ${{ matrix.runner }}")
    return found


def _macos_tags(ft: FreeThreaded, environment: str) -> list[str]:
    """Each contract macOS tag is the one cibuildwheel produces: the workflow's
    MACOSX_DEPLOYMENT_TARGET, or cibuildwheel's floor for the CPU where that is higher."""
    match = re.search(r"MACOSX_DEPLOYMENT_TARGET=(\d+)\.(\d+)", environment)
    if match is None:
        return ["free-threaded-wheels CIBW_ENVIRONMENT_MACOS sets no MACOSX_DEPLOYMENT_TARGET"]
    wanted = (int(match[1]), int(match[2]))
    found: list[str] = []
    for target in ft.targets:
        for tag in target.platform_tags:
            parsed = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
            if parsed is None or parsed[3] not in CIBW_MACOS_FLOORS:
                continue
            major, minor = max(wanted, CIBW_MACOS_FLOORS[parsed[3]])
            built = f"macosx_{major}_{minor}_{parsed[3]}"
            if tag != built:
                found.append(
                    f"free-threaded target {target.id}: contract tag {tag}, but cibuildwheel "
                    f"builds {built} (MACOSX_DEPLOYMENT_TARGET {wanted[0]}.{wanted[1]}, floor "
                    f"{'.'.join(map(str, CIBW_MACOS_FLOORS[parsed[3]]))} for CPython 3.14+)"
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
        "matrix-from-contract",
        "the verify job emits the build, test and smoke matrices from the contract (`release "
        "matrix`); the wheels, test and smoke-testpypi jobs read them with fromJSON",
        matrices_from_contract,
    ),
    Rule(
        "matrix-build",
        "the wheels job builds each matrix entry (runner, Rust target, manylinux/musllinux "
        "level, macOS deployment target) and uploads dist-<id>; the sdist and a wheel built "
        "from the unpacked sdist are produced",
        build_steps,
    ),
    Rule(
        "matrix-test",
        "the test job installs each matrix entry's wheel and tests it with its Python, "
        "expected CPU, native or QEMU run and container; QEMU is set up for QEMU entries",
        test_steps,
    ),
    Rule(
        "free-threaded",
        "free-threaded wheels (one per contract free-threaded Python: cp314t, cp315t) are "
        "built by cibuildwheel for exactly the contract's selector "
        "with the maturin backend and --locked, repaired to exactly the image's policy, and "
        "tested by cibuildwheel with tests/unit + tests/integration and the locked test group",
        free_threaded,
    ),
    Rule(
        "matrix-ci",
        "ci.yml builds a wheel on the contract's Linux, macOS and Windows runners and tests the "
        "installed wheel on every contract Python",
        ci_matrix,
    ),
]
