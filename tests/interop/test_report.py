"""docs/interop.md is exactly what the committed interop results prove.

Checks that the committed ``tests/interop/results.json`` comes from a complete, green run
(every declared (scenario, peer) pair has a result, each passed or is a declared strict
gap), that its tests are exactly the collected interop tests, and that docs/interop.md
is its rendering. These checks need no browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docs import interop_scenarios as scenarios
from docs import render_interop as render_report
from tests.interop import interop_state

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return json.loads(render_report.RESULTS.read_text())


def test_results_cover_the_declared_matrix(results: dict[str, Any]) -> None:
    seen = {(r["scenario"], r["peer"]) for r in results["results"]}
    assert seen == scenarios.matrix()


def test_results_are_green_or_declared_gaps(results: dict[str, Any]) -> None:
    for row in results["results"]:
        gap = scenarios.KNOWN_GAPS.get((row["scenario"], row["peer"]))
        if gap is None:
            assert row["outcome"] == "passed", row
        else:
            assert row["outcome"] == "xfailed", row
            assert row["reason"] == f"{gap.cause}: {gap.detail}"
    xfailed = {(r["scenario"], r["peer"]) for r in results["results"] if r["outcome"] == "xfailed"}
    assert xfailed == set(scenarios.KNOWN_GAPS)


def test_results_name_every_peer_version(results: dict[str, Any]) -> None:
    for name in ("chromium", "firefox", "geckodriver", "aioquic", "web_transport"):
        assert results["versions"].get(name), name


def test_results_match_the_collected_tests(results: dict[str, Any], tmp_path: Path) -> None:
    modules = {p.name for p in HERE.glob("test_*.py")}
    if modules <= interop_state.COLLECTED_FILES:
        rows = interop_state.COLLECTED  # this session collected every interop module
    else:
        matrix = tmp_path / "matrix.json"
        env = {**os.environ, "WEB_TRANSPORT_INTEROP_MATRIX": str(matrix)}
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        done = subprocess.run(
            [*command, str(HERE)], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        rows = json.loads(matrix.read_text())
    collected = {(r["scenario"], r["peer"], r["test"]) for r in rows}
    recorded = {(r["scenario"], r["peer"], r["test"]) for r in results["results"]}
    assert collected == recorded


def test_doc_is_rendered_from_the_results(results: dict[str, Any]) -> None:
    assert render_report.DOC.read_text() == render_report.render(results), (
        "docs/interop.md is stale: run `uv run python -m docs.generate`"
    )
