"""Finding local CPython interpreters by minor version, without downloading any.

Looks at ``pythonX.Y`` on PATH (pyenv shims included), at pyenv's version directories and at
what ``uv python find`` reports with downloads disabled. Every candidate is run once to
confirm it really is CPython X.Y, because a pyenv shim exists even for inactive versions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROBE = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"


def _is_cpython(candidate: str, minor: str) -> bool:
    try:
        out = subprocess.run(
            [candidate, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.split() == ["cpython", minor]


def _resolved(candidate: str) -> str:
    """The interpreter's real executable (resolves pyenv shims)."""
    out = subprocess.run(
        [candidate, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return out.stdout.strip() or candidate


def _candidates(minor: str) -> list[str]:
    found: list[str] = []
    exe = "python.exe" if os.name == "nt" else f"python{minor}"
    on_path = shutil.which(f"python{minor}")
    if on_path:
        found.append(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for version_dir in sorted((pyenv_root / "versions").glob(f"{minor}.*"), reverse=True):
        binary = version_dir / ("python.exe" if os.name == "nt" else "bin") / exe
        if binary.is_file():
            found.append(str(binary))
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv:
        out = subprocess.run(
            [uv, "python", "find", "--no-project", minor],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if out.returncode == 0 and out.stdout.strip():
            found.append(out.stdout.strip())
    return found


def find_cpython(spec: str) -> str | None:
    """An interpreter for ``spec``: a path to an executable, or a minor version like ``3.12``.

    Returns None when no local interpreter matches. ``spec`` equal to the running
    interpreter's minor version returns the running interpreter first.
    """
    if os.sep in spec or (os.altsep and os.altsep in spec) or Path(spec).is_file():
        return spec if Path(spec).exists() else None
    if spec == "{}.{}".format(*sys.version_info[:2]) and sys.implementation.name == "cpython":
        # In a virtual environment, the interpreter it was made from.
        return getattr(sys, "_base_executable", sys.executable)
    if not spec.replace(".", "").isdigit():
        found = shutil.which(spec)
        return _resolved(found) if found else None
    for candidate in _candidates(spec):
        if _is_cpython(candidate, spec):
            return _resolved(candidate)
    return None
