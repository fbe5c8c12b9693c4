"""The type stub ``python/web_transport/_web_transport.pyi`` ships with the native module.

``tests/stub`` compares the stub with the module (``mypy.stubtest``, which needs the dev
group). Three facts stubtest does not check are asserted here, also against each installed
wheel: the stub ships beside the module, the exceptions the module re-exports are the very
classes of ``web_transport._exceptions``, and the runtime ``__all__`` names the module's
public names.
"""

from __future__ import annotations

from pathlib import Path

import web_transport._exceptions as exceptions_module
import web_transport._web_transport as native


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
