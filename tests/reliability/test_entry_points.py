"""Every function Python can call in the native module enters the exit gate first.

``src/shutdown.rs`` can only wait for, and park, threads that are counted as inside the
binding; a method that forgets ``crate::shutdown::enter()`` can abort the process at
interpreter exit (see ``tests/reliability/test_clean_exit.py``). This reads the Rust
sources: every ``fn`` of a ``#[pymethods]`` block and every ``#[pyfunction]`` (but the
``atexit`` hook itself) must start with it. (It reads the checkout, so it lives here
rather than in ``tests/unit``, which the release rehearsal runs against an installed
wheel.)
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ENTER = "let _entered = crate::shutdown::enter();"


def entry_points() -> list[tuple[str, str, str]]:
    """(file, function name, first statement) of every Python-callable function."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(SRC.glob("*.rs")):
        lines = path.read_text().splitlines()
        in_pymethods = pyfunction_next = False
        for i, line in enumerate(lines):
            if line.startswith("#[pymethods]"):
                in_pymethods = True
            elif in_pymethods and line == "}":
                in_pymethods = False
            if line.startswith("#[pyfunction]"):
                pyfunction_next = True
            method = in_pymethods and re.match(r"^    (?:pub )?fn (\w+)", line)
            function = pyfunction_next and re.match(r"^(?:pub )?fn (\w+)", line)
            match = method or function
            if not match:
                continue
            pyfunction_next = False
            # The body starts after the line that closes the signature with "{".
            j = i
            while not lines[j].rstrip().endswith("{"):
                j += 1
            found.append((path.name, match.group(1), lines[j + 1].strip()))
    return found


def test_every_entry_point_enters_the_exit_gate() -> None:
    points = entry_points()
    assert len(points) > 50, f"the parser found only {len(points)} entry points"
    missing = [
        f"{file}: {name}" for file, name, first in points if first != ENTER and name != "_shutdown"
    ]
    assert not missing, "these do not start with crate::shutdown::enter():\n" + "\n".join(missing)
