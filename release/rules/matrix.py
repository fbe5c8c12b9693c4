"""Rules tying the workflow matrices to the contract: what is built, where, and tested how.

Each check is a list of (problem, holds) pairs; a rule reports the problems that do not hold.
"""

from __future__ import annotations

import re

from release.contract import FreeThreaded
from release.rules.base import (
    CIBUILDWHEEL,
    CIBW_ENVIRONMENTS,
    DOWNLOAD,
    MATURIN_ACTION,
    QEMU_ACTION,
    Context,
    failing,
    rules,
    runs,
    unneeded,
    unrun,
    uploads,
)

#: release.yml job -> the verify output its matrix is read from.
MATRIX_OUTPUTS = {
    "wheels": "build",
    "test": "test",
    "smoke-testpypi": "smoke",
    "free-threaded-wheels": "free_threaded",
}
MATRIX_COMMAND = 'python -m release matrix --github-output "$GITHUB_OUTPUT"'
DIST_ID = "dist-${{ matrix.id }}"
TEST_INSTALLED = "python -m release test-installed --dist dist"
#: cibuildwheel 4.2 raises MACOSX_DEPLOYMENT_TARGET to these floors for CPython 3.14 and
#: later (cibuildwheel/platforms/macos.py), and maturin tags the wheel with the raised value.
CIBW_MACOS_FLOORS = {"x86_64": (10, 15), "arm64": (11, 0)}


def _matrix(field: str) -> str:
    return f"${{{{ matrix.{field} }}}}"


def matrix_from_contract(ctx: Context) -> list[str]:
    """the verify job emits the build, test, smoke and free-threaded matrices from the contract
    (`release matrix`); the wheels, free-threaded-wheels, test and smoke-testpypi jobs read them
    with fromJSON"""
    verify = ctx.release.job("verify")
    emitting = [s for s in verify.steps if MATRIX_COMMAND in s.run]
    step_id = str(emitting[0].data.get("id", "")) if emitting else ""
    outputs = verify.data.get("outputs") or {}
    found = unrun(verify, MATRIX_COMMAND)
    for job_id, output in MATRIX_OUTPUTS.items():
        job = ctx.release.job(job_id)
        wanted = f"${{{{ steps.{step_id}.outputs.{output} }}}}"
        expression = f"${{{{ fromJSON(needs.verify.outputs.{output}) }}}}"
        found += failing(
            (outputs.get(output) == wanted, f"verify job output {output} is not {wanted}"),
            (job.matrix_expression == expression, f"{job_id} job's matrix is not {expression}"),
        ) + unneeded(job, "verify")
    return found


def matrix_build(ctx: Context) -> list[str]:
    """the wheels job builds each matrix entry (runner, Rust target, manylinux/musllinux level,
    macOS deployment target) and uploads dist-<id>; the sdist and a wheel built from the unpacked
    sdist are produced"""
    wheels, sdist = ctx.release.job("wheels"), ctx.release.job("sdist")
    steps = wheels.steps_using(MATURIN_ACTION)
    deployment = (wheels.data.get("env") or {}).get("MACOSX_DEPLOYMENT_TARGET")
    found = failing(
        (deployment == _matrix("macos-deployment-target"),
         "wheels env MACOSX_DEPLOYMENT_TARGET is not the matrix's macos-deployment-target"),
        (len(steps) == 1, f"wheels job has {len(steps)} maturin-action steps, expected 1"),
        (wheels.data.get("runs-on") == _matrix("runner"), "wheels job: runs-on not the matrix's"),
        (DIST_ID in uploads(wheels), f"wheels job does not upload {DIST_ID}"),
        (any(s.with_.get("command") == "sdist" for s in sdist.steps_using(MATURIN_ACTION)),
         "sdist job does not run maturin sdist"),
        ("dist-sdist" in uploads(sdist), "sdist job does not upload artifact dist-sdist"),
    )  # fmt: skip
    for step in steps:
        found += [f"{step.label}: {key} is not the matrix's" for key in ("target", "manylinux")
                  if step.with_.get(key) != _matrix(key)]  # fmt: skip
    target, job = ctx.contract.sdist_wheel, ctx.release.job("sdist-wheel")
    builds = job.steps_using(MATURIN_ACTION)
    level = str(builds[0].with_.get("manylinux") or "") if builds else None
    return found + unneeded(job, "sdist") + failing(
        (job.data.get("runs-on") == target.runner, f"sdist-wheel does not run on {target.runner}"),
        (level == str(target.manylinux or ""), f"sdist-wheel is not built at {target.manylinux}"),
        (builds and builds[0].with_.get("working-directory"),
         "sdist-wheel does not build inside the unpacked sdist"),
        (target.id in uploads(job), f"sdist-wheel job does not upload artifact {target.id}"),
    )  # fmt: skip


def matrix_test(ctx: Context) -> list[str]:
    """the test job installs each matrix entry's wheel and tests it with its Python, expected CPU,
    native or QEMU run and container; QEMU is set up (uncached) for QEMU entries"""
    contract, job = ctx.contract, ctx.release.job("test")
    env = job.data.get("env") or {}
    variables = {"PY": "python", "MACHINE": "machine", "VIA": "via", "CONTAINER": "container"}
    found = unneeded(job, "wheels", "sdist-wheel") + unrun(job, TEST_INSTALLED) + failing(
        (job.data.get("runs-on") == _matrix("runner"), "test job: runs-on is not the matrix's"),
        (any(s.with_.get("name") == _matrix("artifact") for s in job.steps_using(DOWNLOAD)),
         "test job does not download the matrix artifact"),
        *[(env.get(var) == _matrix(field), f"test job env {var} is not the matrix's {field}")
          for var, field in variables.items()],
        *[(runs(job, f'--{option} "${var}"'), f"test job's test-installed lacks --{option}")
          for var, option in (("PY", "python"), ("MACHINE", "expect-machine"), ("VIA", "via"),
                              ("CONTAINER", "container"))],
    )  # fmt: skip
    targets = (*contract.targets, contract.sdist_wheel)
    if any(run.via == "qemu" for t in targets for run in t.tests):
        qemu = job.steps_using(QEMU_ACTION)
        found += failing(
            (qemu and qemu[0].condition == "matrix.via == 'qemu'",
             "test job has no QEMU (binfmt) setup step for the qemu entries"),
            # zizmor's cache-poisoning audit does not know this action's image cache.
            (not qemu or qemu[0].with_.get("cache-image") is False,
             "test job's setup-qemu-action caches its image (cache-image: false)"),
        )  # fmt: skip
    return found


def free_threaded(ctx: Context) -> list[str]:
    """free-threaded wheels (one per contract free-threaded Python, cpXYt) are built by
    cibuildwheel for exactly the contract's selector (the matrix's `build`) with the maturin
    backend and --locked, repaired to exactly the image's policy, and tested by cibuildwheel with
    tests/unit + tests/integration and the locked test group"""
    ft = ctx.contract.free_threaded
    job = ctx.release.job("free-threaded-wheels")
    env = {str(k): str(v) for k, v in (job.data.get("env") or {}).items()}
    tests = env.get("CIBW_TEST_COMMAND", "")
    return failing(
        (env.get("CIBW_BUILD") == _matrix("build"), f"free-threaded-wheels CIBW_BUILD is not "
                                      f"{_matrix('build')} (the contract's {ft.selector!r})"),
        (env.get("CIBW_ARCHS") == _matrix("archs"), "free-threaded: CIBW_ARCHS not the matrix's"),
        *[('MATURIN_PEP517_ARGS="--locked"' in env.get(key, ""),
           f'free-threaded-wheels {key} lacks MATURIN_PEP517_ARGS="--locked"')
          for key in CIBW_ENVIRONMENTS],
        ("--only-plat" in env.get("CIBW_REPAIR_WHEEL_COMMAND_LINUX", ""),
         "free-threaded-wheels does not repair Linux wheels to exactly the image's policy"),
        ("--require-hashes" in env.get("CIBW_BEFORE_TEST", ""),
         "free-threaded-wheels does not install the locked test group (hashes)"),
        ("pytest" in tests and "tests/unit" in tests and "tests/integration" in tests,
         "free-threaded-wheels does not test with tests/unit and tests/integration"),
        (len(job.steps_using(CIBUILDWHEEL)) == 1, "free-threaded-wheels: not 1 cibuildwheel step"),
        (DIST_ID in uploads(job), f"free-threaded-wheels does not upload {DIST_ID}"),
        (job.data.get("runs-on") == _matrix("runner"), "free-threaded: runs-on not the matrix's"),
    ) + unrun(job, "python -m release test-requirements") + _macos_tags(
        ft, env.get("CIBW_ENVIRONMENT_MACOS", "")
    )  # fmt: skip


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
            parsed = re.fullmatch(r"macosx_\d+_\d+_(\w+)", tag)
            if parsed is None or parsed[1] not in CIBW_MACOS_FLOORS:
                continue
            floor = CIBW_MACOS_FLOORS[parsed[1]]
            built = "macosx_{}_{}_{}".format(*max(wanted, floor), parsed[1])
            if tag != built:
                found.append(
                    f"free-threaded target {target.id}: contract tag {tag}, but cibuildwheel "
                    f"builds {built} (MACOSX_DEPLOYMENT_TARGET {wanted[0]}.{wanted[1]}, floor "
                    f"{floor[0]}.{floor[1]} for CPython 3.14+)"
                )
    return found


def matrix_ci(ctx: Context) -> list[str]:
    """ci.yml builds a wheel on the contract's Linux, macOS and Windows runners and tests the
    installed wheel on every contract Python (its list written by `release compliance`)"""
    contract, build, test = ctx.contract, ctx.ci.job("build"), ctx.ci.job("test")
    runners = sorted(contract.ci_runners)
    pythons = sorted(str(p) for p in test.matrix.get("python", []))
    oses = {"windows" if "windows" in r else "macos" if "macos" in r else "linux" for r in runners}
    return failing(
        (sorted(build.matrix.get("runner", [])) == runners, f"ci build runners are not {runners}"),
        (sorted(test.matrix.get("runner", [])) == runners, f"ci test runners are not {runners}"),
        (pythons == sorted(contract.pythons),
         f"ci test Pythons {pythons}, contract {sorted(contract.pythons)}: `release compliance`"),
        (oses == {"linux", "macos", "windows"}, f"ci runners cover {sorted(oses)} only"),
        (build.steps_using(MATURIN_ACTION), "ci build job does not build with maturin-action"),
    ) + unneeded(test, "build") + unrun(test, TEST_INSTALLED)  # fmt: skip


RULES = rules(
    matrix_from_contract,
    matrix_build,
    matrix_test,
    free_threaded,
    matrix_ci,
)
