"""The type stub ``python/web_transport/_web_transport.pyi`` matches the native module.

``mypy.stubtest`` (the maintained checker pydantic-core also uses) compares every name,
class, method, property and signature of ``web_transport._web_transport`` with the stub,
in both directions; ``stubtest_allowlist.txt`` beside this file lists, each with its
reason, what it may not compare. It needs mypy (the dev dependency group), so it lives
apart from tests/unit, which the release also runs against each installed wheel with only
the ``test`` group; the ``stub`` nox session runs it. Without mypy it skips, except under
``CI=true``, where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ALLOWLIST = Path(__file__).with_name("stubtest_allowlist.txt")


def test_stubtest_finds_no_difference(tmp_path: Path) -> None:
    if importlib.util.find_spec("mypy") is None:
        message = "mypy is not installed here (the dev dependency group has it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI=true the stub check may not skip")
        pytest.skip(message)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "web_transport._web_transport",
            "--allowlist",
            str(ALLOWLIST),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
