"""Finding local CPython interpreters by minor version, without downloading any.

Candidates are ``pythonX.Y`` on PATH (pyenv shims included), pyenv's version directories and
what ``uv python find`` reports with downloads disabled. Each is run once to confirm it really
is CPython X.Y (a pyenv shim exists even for inactive versions) and to resolve the real
executable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from release.build_settings import uv_binary

PROBE = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2], sys.executable)"


def _probe(candidate: str) -> list[str]:
    """``[implementation, "X.Y", real executable]`` of ``candidate``, or ``[]`` when it does
    not run."""
    try:
        out = subprocess.run(
            [candidate, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return out.stdout.strip().split(maxsplit=2) if out.returncode == 0 else []


def _candidates(minor: str) -> list[str]:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    bindir, exe = ("", "python.exe") if os.name == "nt" else ("bin", f"python{minor}")
    found = [shutil.which(f"python{minor}")]
    found += [str(v / bindir / exe) for v in sorted(pyenv.glob(f"{minor}.*"), reverse=True)]
    uv = uv_binary()
    if uv:
        out = subprocess.run(
            [uv, "python", "find", "--no-project", minor],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        found.append(out.stdout.strip() if out.returncode == 0 else None)
    return [candidate for candidate in found if candidate]


def find_cpython(spec: str) -> str | None:
    """An interpreter for ``spec``: a path to an executable, a command on PATH, or a minor
    version like ``3.12`` (the running interpreter first, if it is that version).

    Returns None when no local interpreter matches.
    """
    if os.sep in spec or (os.altsep and os.altsep in spec) or Path(spec).is_file():
        return spec if Path(spec).exists() else None
    if spec == "{}.{}".format(*sys.version_info[:2]) and sys.implementation.name == "cpython":
        # In a virtual environment, the interpreter it was made from.
        return getattr(sys, "_base_executable", sys.executable)
    if not spec.replace(".", "").isdigit():
        found = shutil.which(spec)
        return (_probe(found)[2:] or [found])[0] if found else None
    for candidate in _candidates(spec):
        probe = _probe(candidate)
        if probe[:2] == ["cpython", spec] and len(probe) == 3:
            return probe[2]
    return None
