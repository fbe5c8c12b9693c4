# ruff: noqa: E501  (the table of edits quotes workflow lines verbatim; wrapping hides them)
"""Every compliance rule fails when the thing it enforces is broken.

Each case copies the repository's release inputs, applies one edit and asserts that the
named rule reports a problem and that ``compliance --check`` exits non-zero. The baseline
test proves the unedited copy passes, so each failure is caused by its edit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from release_edits import REPO, Edit, failing, replace, skip_missing_linter, write

from release import compliance
from release.project import Project
from release.rules import ALL_RULES, Context

REL = ".github/workflows/release.yml"
CI = ".github/workflows/ci.yml"
DOC = "MATURIN_COMPLIANCE.md"
CONTRACT = "release/contract.toml"
NOX = "noxfile.py"
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"

#: (zizmor audit, the rule it replaced, edit): breakages the dropped rules caught, which zizmor
#: (offline, pedantic, --strict-collection) now reports by that audit.
ZIZMOR_CASES: list[tuple[str, str, Edit]] = [
    (
        "concurrency-limits",
        "concurrency",
        replace(
            CI, "concurrency:\n  group: ci-${{ github.ref }}\n  cancel-in-progress: true\n", ""
        ),
    ),
    (
        "dangerous-triggers",
        "triggers",
        replace(CI, "  pull_request:\n", "  pull_request_target:\n"),
    ),
    ("unpinned-uses", "action-pinning", replace(REL, CHECKOUT, "actions/checkout@v7")),
    (
        "excessive-permissions",
        "permissions",
        replace(REL, "permissions: {}\n", "permissions: write-all\n"),
    ),
    ("excessive-permissions", "permissions", replace(REL, "\npermissions: {}\n", "\n")),
    (
        "undocumented-permissions",
        "permissions",
        replace(
            REL,
            "timeout-minutes: 20\n    permissions:\n      contents: read\n",
            "timeout-minutes: 20\n    permissions:\n      contents: read\n      id-token: write\n",
        ),
    ),
    (
        "artipacked",
        "checkout-credentials",
        replace(CI, "persist-credentials: false", "fetch-depth: 1"),
    ),
    (
        "cache-poisoning",
        "no-cache-on-tags",
        replace(REL, "enable-cache: false", "enable-cache: true"),
    ),
    (
        "cache-poisoning",
        "no-cache-on-tags",
        replace(".github/workflows/docs.yml", "enable-cache: false", "enable-cache: true"),
    ),
    (
        "cache-poisoning",
        "no-cache-on-tags",
        replace(
            REL, "maturin-version: v1.16.0", "maturin-version: v1.16.0\n          sccache: true"
        ),
    ),
]

#: (rule id, case name, edit): at least one case per rule.
CASES: list[tuple[str, str, Edit]] = [
    ("contract", "manylinux level on Windows", replace(
        CONTRACT, 'platform_tag = "win_amd64"', 'platform_tag = "win_amd64"\nmanylinux = "2_28"')),
    ("contract", "duplicate Python", replace(
        CONTRACT, 'pythons = ["3.12", "3.13", "3.14", "3.15"]', 'pythons = ["3.12", "3.13", "3.14", "3.14"]')),
    ("version-single-source", "static version in pyproject", replace(
        "pyproject.toml", 'dynamic = ["version"]', 'version = "0.1.0"\ndynamic = []')),
    ("version-single-source", "Cargo.lock disagrees", replace(
        "Cargo.lock", 'name = "web-transport-py"\nversion = "0.1.0"',
        'name = "web-transport-py"\nversion = "0.0.9"')),
    ("version-single-source", "__version__ hard-coded", write(
        "python/web_transport/__init__.py", '__version__ = "0.1.0"\n')),
    ("version-single-source", "extension does not read CARGO_PKG_VERSION", replace(
        "src/lib.rs", 'env!("CARGO_PKG_VERSION")', '"0.1.0"')),
    ("metadata-requires-python", "requires-python too low", replace(
        "pyproject.toml", 'requires-python = ">=3.12"', 'requires-python = ">=3.11"')),
    ("metadata-abi3", "abi3 floor differs", replace("Cargo.toml", "abi3-py312", "abi3-py311")),
    ("metadata-classifiers", "3.14 classifier missing", replace(
        "pyproject.toml", '    "Programming Language :: Python :: 3.14",\n', "")),
    ("contract", "musllinux tested on glibc", replace(CONTRACT, 'via = "native", container = "alpine"', 'via = "native", container = "debian"')),
    ("contract", "musl target with a manylinux level", replace(
        CONTRACT, 'rust_target = "x86_64-unknown-linux-musl"\nrunner = "ubuntu-24.04"\nmanylinux = "musllinux_1_2"',
        'rust_target = "x86_64-unknown-linux-musl"\nrunner = "ubuntu-24.04"\nmanylinux = "2_28"')),
    ("matrix-from-contract", "wheels read the test matrix", replace(
        REL, "matrix: ${{ fromJSON(needs.verify.outputs.build) }}", "matrix: ${{ fromJSON(needs.verify.outputs.test) }}")),
    ("matrix-from-contract", "matrices not emitted", replace(
        REL, '        id: matrix\n        run: uv run --locked --only-group release python -m release matrix --github-output "$GITHUB_OUTPUT"\n',
        "        id: matrix\n        run: echo none\n")),
    ("matrix-from-contract", "smoke test Pythons written by hand", replace(
        REL, "matrix: ${{ fromJSON(needs.verify.outputs.smoke) }}", 'matrix:\n        python: ["3.12"]')),
    ("matrix-build", "deployment target not from the matrix", replace(
        REL, "MACOSX_DEPLOYMENT_TARGET: ${{ matrix.macos-deployment-target }}", 'MACOSX_DEPLOYMENT_TARGET: "11.0"')),
    ("matrix-build", "one fixed Rust target", replace(
        REL, "target: ${{ matrix.target }}", "target: x86_64-unknown-linux-gnu")),
    ("matrix-test", "container ignored", replace(REL, ' --container "$CONTAINER"', "")),
    ("matrix-test", "QEMU never set up", replace(REL, "if: matrix.via == 'qemu'", "if: matrix.via == 'native'")),
    ("free-threaded", "cibuildwheel builds every Python", replace(REL, "CIBW_BUILD: ${{ matrix.build }}", "CIBW_BUILD: cp3*")),
    ("free-threaded", "selector written by hand (stale on the next Python)", replace(
        REL, "CIBW_BUILD: ${{ matrix.build }}", "CIBW_BUILD: cp314t-* cp315t-*")),
    ("contract", "misspelt key", replace(CONTRACT, 'platform_tag = "win_arm64"', 'platfrom_tag = "win_arm64"')),
    ("contract", "QEMU run on the runner itself", replace(CONTRACT, 'machine = "aarch64", via = "qemu", container = "debian"', 'machine = "aarch64", via = "qemu"')),
    ("contract", "free-threaded since a Python the contract lacks", replace(CONTRACT, 'since = "3.14"', 'since = "3.19"')),
    ("contract", "unknown top-level key", replace(CONTRACT, 'abi = "abi3"', 'abi = "abi3"\nabi3t = true')),
    ("contract", "sdist wheel of no target", replace(CONTRACT, 'sdist_wheel = "linux-x86_64"', 'sdist_wheel = "linux-x64"')),
    ("free-threaded", "macOS x86_64 tag below cibuildwheel's 3.14+ floor", replace(
        CONTRACT, 'platform_tags = ["macosx_10_15_x86_64"]', 'platform_tags = ["macosx_10_13_x86_64"]')),
    ("free-threaded", "unlocked maturin backend", replace(
        REL, 'CIBW_ENVIRONMENT_WINDOWS: MATURIN_PEP517_ARGS="--locked"', "CIBW_ENVIRONMENT_WINDOWS: PIP_NO_CACHE_DIR=1")),
    ("free-threaded", "untested free-threaded wheels", replace(
        REL, "CIBW_TEST_COMMAND: python -m pytest -p no:cacheprovider tests/unit tests/integration", "CIBW_TEST_COMMAND: python -c 'import web_transport'")),
    ("free-threaded", "unlocked test dependencies", replace(REL, "pip install --require-hashes --only-binary", "pip install --only-binary")),
    ("matrix-from-contract", "free-threaded matrix by hand", replace(
        REL, "matrix: ${{ fromJSON(needs.verify.outputs.free_threaded) }}", "matrix:\n        include: [{ id: x, runner: ubuntu-24.04, archs: x86_64 }]")),
    ("expected-manifest", "free-threaded wheels not inspected", replace(
        REL, "needs: [sdist, wheels, free-threaded-wheels]", "needs: [sdist, wheels]")),
    ("matrix-ci", "no Windows in CI", replace(
        CI, "runner: [ubuntu-24.04, macos-15, windows-2022]\n    steps", "runner: [ubuntu-24.04, macos-15]\n    steps")),
    ("matrix-ci", "CI tests the source tree", replace(
        CI, 'python -m release test-installed --dist dist --python "$PY"', "pytest tests")),
    ("tag-verification", "tag not checked", replace(
        REL, 'python -m release check-tag "$GITHUB_REF_NAME"', "python -m release version")),
    ("tag-verification", "name not checked", replace(
        REL, "      - name: PyPI and TestPyPI accept the distribution name (no confusable project)\n        run: uv run --locked --only-group release python -m release check-name\n", "")),
    ("expected-manifest", "partial manifest in the workflow", replace(
        REL, "python -m release inspect dist\n", "python -m release inspect dist --host-only\n")),
    ("expected-manifest", "publish job skips the manifest", replace(
        REL, "run: uv run --locked --only-group release python -m release inspect dist --manifest-only", "run: ls dist")),
    ("locked-build", "wheel built without --locked", replace(
        REL, "args: --release --locked --out dist", "args: --release --out dist")),
    ("locked-build", "cargo without --locked", replace(NOX, '"cargo", "test", "--locked"', '"cargo", "test"')),
    ("locked-build", "CI wheel without --locked", replace(
        CI, "args: --profile dev-release --locked --out dist", "args: --profile dev-release --out dist")),
    ("ci-sessions", "a session ci.yml never runs", replace(
        NOX, "@nox.session(python=DEFAULT_PYTHON)\ndef reliability", "@nox.session(python=DEFAULT_PYTHON, default=False)\ndef reliability")),
    ("ci-sessions", "local-only without a reason", replace(NOX, "LOCAL_ONLY = {\n", 'LOCAL_ONLY = {\n    "docs": "",\n')),
    ("ci-sessions", "hosted matrix drops a session", replace(
        CI, '[.[] | {session, runner: "ubuntu-24.04"},', '[.[] | select(.session != "interop") | {session, runner: "ubuntu-24.04"},')),
    ("ci-sessions", "sessions not run by name", replace(CI, '.ci/nox -s "$SESSION"', ".ci/nox -s lint")),
    ("maturin-pinned", "maturin not pinned", replace(REL, "maturin-version: v1.16.0", "maturin-version: latest")),
    ("environments", "PyPI environment renamed", replace(REL, "name: pypi\n", "name: production\n")),
    ("environments", "attestations off", replace(
        REL, "packages-dir: dist/\n          attestations: true\n          skip-existing: true\n\n  github-release",
        "packages-dir: dist/\n          attestations: false\n          skip-existing: true\n\n  github-release")),
    ("environments", "re-run of a half-done TestPyPI upload fails", replace(
        REL, "          # A re-run after a partial upload skips the files already there (docs/releasing.md).\n          skip-existing: true\n", "")),
    ("environments", "re-run of a half-done PyPI upload fails", replace(
        REL, "          attestations: true\n          skip-existing: true\n\n  github-release", "          attestations: true\n\n  github-release")),
    ("environments", "publishing on pull requests", replace(
        REL, "needs: smoke-testpypi\n    if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')",
        "needs: smoke-testpypi")),
    ("signing-separated", "signing the upload directory", replace(
        REL, "inputs: ./signing/*.whl ./signing/*.tar.gz", "inputs: ./dist/*.whl ./dist/*.tar.gz")),
    ("signing-separated", "bundles not verified", replace(REL, "verify: true\n", "verify: false\n")),
    ("signing-separated", "identity of a guessed repository", replace(
        REL, ' --repository "$GITHUB_REPOSITORY"', "")),
    ("metadata-urls", "no Changelog link", replace(
        "pyproject.toml", 'Changelog = "https://github.com/web-transport-py/web-transport-py/blob/main/CHANGELOG.md"\n', "")),
    ("metadata-urls", "Source elsewhere", replace(
        "pyproject.toml", 'Source = "https://github.com/web-transport-py/web-transport-py"', 'Source = "https://example.org/src"')),
    ("notes-and-provenance", "no CHANGELOG entry for the version", replace(
        "CHANGELOG.md", "## [0.1.0] - 2026-11-26", "## [0.0.9] - 2026-11-26")),
    ("notes-and-provenance", "generated release notes", replace(
        REL, '--notes-file "$RUNNER_TEMP/notes.md"', "--generate-notes")),
    ("notes-and-provenance", "no build provenance", replace(
        REL, "          subject-checksums: signing/SHA256SUMS\n", "          subject-path: signing/*.whl\n")),
    ("notes-and-provenance", "SHA256SUMS not released", replace(REL, "            signing/SHA256SUMS\n", "")),
    ("write-scopes", "attestations: write on the test job", replace(
        REL, "      contents: read\n    strategy:\n      fail-fast: false\n      matrix: ${{ fromJSON(needs.verify.outputs.test) }}",
        "      contents: read\n      attestations: write\n    strategy:\n      fail-fast: false\n      matrix: ${{ fromJSON(needs.verify.outputs.test) }}")),
    ("docs-site", "site built without --strict", replace(
        ".github/workflows/docs.yml", "--only-group docs mkdocs build --strict", "--only-group docs mkdocs build")),
    ("docs-site", "site deployed from pull requests", replace(
        ".github/workflows/docs.yml", "    needs: build\n    if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')\n", "    needs: build\n")),
    ("write-scopes", "pages: write on the docs build", replace(
        ".github/workflows/docs.yml", "    permissions:\n      contents: read\n", "    permissions:\n      contents: read\n      pages: write\n")),
    ("tag-runs-not-cancelled", "docs tag runs cancellable", replace(
        ".github/workflows/docs.yml", "cancel-in-progress: ${{ github.event_name == 'pull_request' }}", "cancel-in-progress: true")),
    ("update-proposals", "no uv updates", replace(
        ".github/dependabot.yml", "package-ecosystem: uv", "package-ecosystem: pip")),
    ("update-proposals", "cargo updates ungrouped", replace(
        ".github/dependabot.yml", "    groups:\n      cargo:\n        patterns: [\"*\"]\n", "")),
    ("update-proposals", "zizmor offline only", replace(
        CI, "release zizmor --no-progress --persona pedantic .github", "release zizmor --offline --no-progress .github")),
    ("zizmor", "dependabot without cooldown", replace(
        ".github/dependabot.yml", "    cooldown:\n      default-days: 7\n", "", count=3)),
    ("write-scopes", "a documented id-token: write on a build job", replace(
        REL, "timeout-minutes: 20\n    permissions:\n      contents: read\n",
        "timeout-minutes: 20\n    permissions:\n      contents: read\n      id-token: write # to sign\n")),
    ("matrix-test", "QEMU image cached (zizmor does not know this cache)", replace(REL, "          cache-image: false\n", "")),
    ("triggers", "CI on tags, where its caches could feed a release", replace(
        CI, "  push:\n    branches: [main]\n", "  push:\n    branches: [main]\n    tags: ['v*']\n")),
    ("timeouts", "job without timeout", replace(REL, "    timeout-minutes: 15\n", "")),
    ("tag-runs-not-cancelled", "tag runs cancellable", replace(
        REL, "cancel-in-progress: ${{ github.event_name == 'pull_request' }}", "cancel-in-progress: true")),
    ("triggers", "release on branch pushes", replace(
        REL, "  push:\n    tags:", "  push:\n    branches: [main]\n    tags:")),
    ("thin-steps", "script in a step", replace(
        REL, "run: mkdir from-sdist && tar", "run: |\n          mkdir from-sdist\n          tar")),
    ("actionlint", "undefined matrix property", replace(CI, "name: build wheel (${{ matrix.runner }})", "name: build wheel (${{ matrix.runnr }})")),
    ("actionlint", "unknown job output", replace(REL, "fromJSON(needs.verify.outputs.build)", "fromJSON(needs.verify.outputs.builds)")),
    ("installs-have-wheels", "the release group on every cibuildwheel runner (the first tag's blocker)", replace(
        REL, "run: uv run --no-project python -m release test-requirements", "run: uv run --locked --only-group release python -m release test-requirements")),
    ("installs-have-wheels", "an install check-installs cannot read", replace(
        CI, '.ci/nox -s "$SESSION"', 'uvx nox -s "$SESSION"')),
    ("installs-have-wheels", "a session whose installs noxfile.py does not declare", replace(
        NOX, '    "rust": [],\n', "")),
    ("uv-pinned", "setup-uv without version", replace(CI, '          version: "0.13.9"\n', "")),
    ("maturin-in-cibuildwheel", "constraints file pins another maturin", replace(
        ".github/build-constraints.txt", "maturin==1.16.0", "maturin==1.17.0")),
    ("maturin-in-cibuildwheel", "Windows build unconstrained (build isolation takes the newest maturin)", replace(
        REL, 'CIBW_ENVIRONMENT_WINDOWS: MATURIN_PEP517_ARGS="--locked" PIP_CONSTRAINT=', 'CIBW_ENVIRONMENT_WINDOWS: MATURIN_PEP517_ARGS="--locked" X=')),
    ("container-images", "digest pinning promised, tags used", replace(CONTRACT, 'pinning = "tag"', 'pinning = "digest"')),
    ("container-images", "tag pinning without a reason", replace(CONTRACT, 'reason = "no container registry', 'reason = ""\nnote = "no container registry')),
    ("windows-repair", "delvewheel back on", replace(REL, '      CIBW_REPAIR_WHEEL_COMMAND_WINDOWS: ""\n', "")),
    ("published-bytes", "PyPI upload without the byte check", replace(
        REL, "      - name: files already on PyPI are these bytes (skip-existing hides no rebuild)\n        run: uv run --locked --only-group release python -m release check-published dist --index-url https://pypi.org/simple/\n", "")),
    ("published-bytes", "TestPyPI checked against PyPI", replace(
        REL, "check-published dist --index-url https://test.pypi.org/simple/", "check-published dist --index-url https://pypi.org/simple/")),
    ("release-files-documented", "a hand-written count in docs/releasing.md", replace(
        "docs/releasing.md", "exactly these 24 files", "exactly these 16 files")),
    ("release-files-documented", "README block removed", replace(
        "README.md", "<!-- release-files:end -->", "")),
    *[("zizmor", f"{audit} (once rule {rule})", edit) for audit, rule, edit in ZIZMOR_CASES],
    ("zizmor", "a workflow it cannot parse fails (--strict-collection), not skipped", replace(
        REL, "          persist-credentials: false\n", "")),
    ("zizmor", "template injection", replace(
        CI, "      - name: zizmor (online, with the workflow token)\n", '      - name: title\n        run: echo "${{ github.event.pull_request.title }}"\n      - name: zizmor (online, with the workflow token)\n')),
]  # fmt: skip


def test_every_rule_has_a_breaking_case() -> None:
    assert {rule.id for rule in ALL_RULES} <= {case[0] for case in CASES}


def test_unbroken_copy_passes_every_rule(repo_copy: Path) -> None:
    skip_missing_linter("actionlint", "zizmor")
    assert failing(repo_copy) == {}
    assert compliance.check(Project(repo_copy)) == 0


@pytest.mark.parametrize(("rule_id", "case", "edit"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_breaking_a_rule_fails_it(repo_copy: Path, rule_id: str, case: str, edit: Edit) -> None:
    # Only the named rule is evaluated (the linters run only for their own cases, which keeps
    # this fast); compliance --check fails whenever any rule does (test_cli_exit_status...).
    skip_missing_linter(rule_id)
    edit(repo_copy)
    (rule,) = [r for r in ALL_RULES if r.id == rule_id]
    problems = rule.check(Context(Project(repo_copy)))
    assert problems, f"{case}: rule {rule_id} still passes"


@pytest.mark.parametrize(
    ("audit", "rule", "edit"), ZIZMOR_CASES, ids=[f"{c[0]} ({c[1]})" for c in ZIZMOR_CASES]
)
def test_zizmor_reports_what_a_dropped_rule_did(
    repo_copy: Path, audit: str, rule: str, edit: Edit
) -> None:
    skip_missing_linter("zizmor")
    edit(repo_copy)
    (zizmor,) = [r for r in ALL_RULES if r.id == "zizmor"]
    problems = zizmor.check(Context(Project(repo_copy)))
    assert any(f"[{audit}]" in p for p in problems), problems


def test_cli_exit_status_reflects_a_broken_rule(repo_copy: Path) -> None:
    replace(REL, "    timeout-minutes: 15\n", "")(repo_copy)
    cmd = [sys.executable, "-m", "release", "--root", str(repo_copy), "compliance", "--check"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "FAIL rule timeouts" in result.stdout


def test_stale_document_fails_the_check_and_regeneration_fixes_it(repo_copy: Path) -> None:
    skip_missing_linter("actionlint", "zizmor")
    project = Project(repo_copy)
    replace(
        DOC,
        "| `timeouts` | every job sets `timeout-minutes` | pass |",
        "| `timeouts` | enforced | pass |",
    )(repo_copy)
    assert failing(repo_copy) == {}
    assert compliance.check(project) == 1
    assert compliance.regenerate(project) == 0
    assert compliance.check(project) == 0


def test_contract_edit_needs_no_workflow_edit(repo_copy: Path) -> None:
    # Dropping the Windows targets from the contract: the matrices and the manifest follow
    # (no rule fails), only the generated text is stale until regenerated.
    skip_missing_linter("actionlint", "zizmor")
    contract = repo_copy / CONTRACT
    text = contract.read_text()
    start = text.index('[[targets]]\nid = "windows-x64"')
    end = text.index("# Free-threaded CPython")
    contract.write_text(text[:start] + text[end:])
    # The generated parts (this document's, the release-files blocks of the docs) are stale.
    assert set(failing(repo_copy)) == {"release-files-documented"}
    assert compliance.check(Project(repo_copy)) == 1
    assert compliance.regenerate(Project(repo_copy)) == 0
    assert failing(repo_copy) == {}
    assert "22 files: 5 abi3 wheels" in (repo_copy / "README.md").read_text()
    assert "abi3-win_amd64" not in (repo_copy / DOC).read_text()


def test_container_images_record_tag_pinning_and_why() -> None:
    # No container registry was reachable to read a digest (docs/releasing.md, "Pinned tools"):
    # the contract records the state and its reason, and the workflows use the action's tags.
    from release.contract import load_contract
    from release.workflows import load_workflow

    project = Project(REPO)
    settings = dict(load_contract(project).container_images)
    assert settings["pinning"] == "tag"
    assert "no container registry was reachable" in settings["reason"]
    steps = [
        step
        for name in ("release.yml", "ci.yml")
        for job in load_workflow(project.workflow_path(name)).jobs.values()
        for step in job.steps_using("PyO3/maturin-action")
    ]
    assert len(steps) >= 3  # sdist, wheels, sdist-wheel (and ci.yml's build)
    assert all("container" not in step.with_ for step in steps)
