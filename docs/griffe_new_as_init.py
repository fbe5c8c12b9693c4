"""Griffe extension for the API reference (mkdocs.yml loads it).

PyO3 classes are constructed by ``__new__``, and the stub says so (``mypy.stubtest``
checks it against the runtime), but griffe takes a class's parameters from ``__init__``
only: the ``Args`` of ``Server``'s or ``TransportConfig``'s docstring would then match no
parameter and strict mode fails. For each class with a ``__new__`` and no ``__init__``,
this adds an ``__init__`` with the same parameters (``cls`` becomes ``self``), so the
reference shows the constructor's signature as Python users call it.
"""

from typing import Any

import griffe


class NewAsInit(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        new = cls.members.get("__new__")
        if not isinstance(new, griffe.Function) or "__init__" in cls.members:
            return
        params = list(new.parameters)
        self_param = griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)
        init = griffe.Function(
            "__init__",
            lineno=new.lineno,
            endlineno=new.endlineno,
            parameters=griffe.Parameters(self_param, *params[1:]),
            returns="None",
            docstring=new.docstring,
        )
        cls.set_member("__init__", init)
