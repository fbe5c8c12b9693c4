"""The type stub ``python/web_transport/_web_transport.pyi`` matches the native module.

``mypy.stubtest`` (the maintained checker pydantic-core also uses) compares every name,
class, method, property and signature of ``web_transport._web_transport`` with the stub,
in both directions; ``stubtest_allowlist.txt`` beside this file lists, each with its
reason, what it may not compare. Three facts stubtest does not check are asserted here:
the stub ships beside the module, the exceptions the module re-exports are the very
classes of ``web_transport._exceptions``, and the runtime ``__all__`` names the module's
public names.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import web_transport._exceptions as exceptions_module
import web_transport._web_transport as native

ALLOWLIST = Path(__file__).with_name("stubtest_allowlist.txt")


def test_stubtest_finds_no_difference(tmp_path: Path) -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed here (the dev dependency group has it)")
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


def test_stub_is_shipped_next_to_the_module() -> None:
    package_dir = Path(native.__file__).resolve().parent
    assert (package_dir / "_web_transport.pyi").exists()
    assert (package_dir / "py.typed").exists()


def test_reexported_exceptions_are_the_python_classes() -> None:
    for name in exceptions_module.__all__:
        assert getattr(native, name) is getattr(exceptions_module, name)


def test_runtime_all_matches() -> None:
    public = {n for n in dir(native) if not n.startswith("_") or n == "__version__"}
    declared = set(getattr(native, "__all__", []))
    if declared:
        assert declared == public
