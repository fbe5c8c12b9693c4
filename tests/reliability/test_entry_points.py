"""Every function Python can call in the native module enters the exit gate first.

``src/shutdown.rs`` can only wait for, and park, threads that are counted as inside the
binding; an entry point outside the gate can abort the process at interpreter exit (see
``tests/reliability/test_clean_exit.py``). The gate is applied by construction: methods
and functions get it from ``#[gate::pymethods]`` / ``#[gate::pyfunction]`` (the crate in
``gate/``), closures from ``crate::shutdown::callback`` (``clippy.toml`` disallows
``PyCFunction::new_closure``). This checks that PyO3's own, ungated attributes are not
used instead (only the ``atexit`` hook, which closes the gate, is exempt). It reads the
checkout, so it lives here rather than in ``tests/unit``, which the release rehearsal
runs against an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
UNGATED = ("#[pymethods]", "#[pyfunction]", "#[pyo3::pymethods]", "#[pyo3::pyfunction]")


def test_no_entry_point_bypasses_the_gate() -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SRC.glob("*.rs"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith(UNGATED)
    ]
    # The one exemption: shutdown.rs's atexit hook.
    assert [f.split(":")[0] for f in found] == ["shutdown.rs"], (
        "PyO3's ungated attributes (use #[gate::pymethods] / #[gate::pyfunction]):\n"
        + "\n".join(found)
    )


def test_the_gated_attributes_are_in_use() -> None:
    text = "\n".join(path.read_text() for path in SRC.glob("*.rs"))
    assert text.count("#[gate::pymethods") >= 10
    assert text.count("#[gate::pyfunction]") >= 2
