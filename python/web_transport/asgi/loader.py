"""``module:attr`` application strings, as uvicorn reads them."""

from __future__ import annotations

import importlib
import sys
from typing import Any


def load_app(spec: str, *, factory: bool = False, app_dir: str = ".") -> Any:
    """Import the ASGI application named by ``spec``.

    Args:
        spec: ``"module:attr"``; ``attr`` may be dotted (``"pkg.mod:app.asgi"``).
        factory: ``attr`` is a callable taking no arguments that returns the
            application (uvicorn's ``--factory``).
        app_dir: Directory put first on ``sys.path`` (default ``"."``, as uvicorn).

    Raises:
        ValueError: ``spec`` is not ``module:attr``, the attribute is missing, or
            ``factory`` is set and the attribute is not callable.
        ImportError: The module cannot be imported (the original error, chained).
    """
    module_name, sep, attrs = spec.partition(":")
    if not sep or not module_name or not attrs:
        raise ValueError(f'application {spec!r} is not in the form "module:attribute"')
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    module = importlib.import_module(module_name)
    app: Any = module
    for attr in attrs.split("."):
        try:
            app = getattr(app, attr)
        except AttributeError:
            raise ValueError(f"attribute {attrs!r} not found in module {module_name!r}") from None
    if factory:
        if not callable(app):
            raise ValueError(f"--factory: {spec!r} is not callable")
        app = app()
    return app
