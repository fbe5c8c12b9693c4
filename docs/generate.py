"""Render every generated document, or check that each is current.

    uv run python -m docs.generate           # write them
    uv run python -m docs.generate --check   # exit 1 if any is stale

- ``docs/errors.md`` from the bad-input table (``ROWS`` in ``docs/errors_table.py``), by
  ``docs/render_errors.py``;
- ``docs/interop.md`` from the interop results (``tests/interop/results.json``), by
  ``docs/render_interop.py``.

``MATURIN_COMPLIANCE.md`` keeps its own command (``python -m release compliance``,
the same ``--check`` convention): it belongs to the release toolkit. The tests that
compare each document with its rendering say to run this script. It runs as a module from
the repository root, where ``docs`` (the renderers and the tables they render: the
bad-input rows, the interop scenarios) is importable; it imports nothing from ``tests``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def documents() -> dict[Path, Callable[[], str]]:
    """Each generated document and how to render it."""
    from docs import render_errors, render_interop
    from docs.errors_table import ROWS

    return {
        render_errors.DOC: lambda: render_errors.render(ROWS),
        render_interop.DOC: lambda: render_interop.render(
            json.loads(render_interop.RESULTS.read_text())
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the generated documents.")
    parser.add_argument("--check", action="store_true", help="exit 1 if any is stale")
    options = parser.parse_args(argv)
    stale = []
    for path, render in documents().items():
        text = render()
        if options.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
            continue
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        names = ", ".join(str(p) for p in stale)
        print(f"stale: {names}; run: uv run python -m docs.generate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
