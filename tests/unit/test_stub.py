"""The type stub ``python/web_transport/_web_transport.pyi`` matches the native module
``web_transport._web_transport`` in both directions: the same public names, re-exported
exceptions that are the very classes of ``web_transport._exceptions``, for every class
the same public methods, properties and async protocol methods (each of the same kind),
constructors exactly where the runtime has one, and the same parameter names, kinds and
defaults wherever the runtime exposes a signature. The stub is parsed with ``ast``."""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import web_transport._exceptions as exceptions_module
import web_transport._web_transport as native

# The stub beside the imported package: the source tree in development, site-packages
# when the suite runs against an installed wheel (which must ship it).
STUB = Path(native.__file__).resolve().parent / "_web_transport.pyi"

#: Dunder methods that are part of a class's public protocol and must be in the stub.
PROTOCOL_DUNDERS = {
    "__aenter__",
    "__aexit__",
    "__aiter__",
    "__anext__",
    "__await__",
    "__iter__",
    "__next__",
    "__call__",
    "__len__",
    "__getitem__",
    "__contains__",
    "__enter__",
    "__exit__",
}


@dataclass
class StubClass:
    node: ast.ClassDef
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    properties: set[str] = field(default_factory=set)


@dataclass
class Stub:
    names: set[str]
    reexports: dict[str, str]  # name -> module it is imported from
    classes: dict[str, StubClass]
    functions: dict[str, ast.FunctionDef]


def is_public(name: str) -> bool:
    return not name.startswith("_") or name == "__version__"


def decorator_names(fn: ast.FunctionDef) -> set[str]:
    out = set()
    for d in fn.decorator_list:
        if isinstance(d, ast.Name):
            out.add(d.id)
        elif isinstance(d, ast.Attribute):
            out.add(d.attr)  # e.g. @priority.setter -> "setter"
    return out


def parse_stub() -> Stub:
    if not STUB.exists():
        pytest.fail(f"the stub {STUB} does not exist")
    tree = ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))
    names: set[str] = set()
    reexports: dict[str, str] = {}
    classes: dict[str, StubClass] = {}
    functions: dict[str, ast.FunctionDef] = {}
    dunder_all: list[str] | None = None
    imported: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            cls = StubClass(node)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    decorators = decorator_names(item)  # type: ignore
                    if decorators & {"property", "setter", "deleter"}:
                        cls.properties.add(item.name)
                    else:
                        cls.methods[item.name] = item  # type: ignore
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    cls.properties.add(item.target.id)
            classes[node.name] = cls
            names.add(node.name)
        elif isinstance(node, ast.FunctionDef):
            functions[node.name] = node
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    if target.id == "__all__":
                        dunder_all = list(ast.literal_eval(node.value))
                    else:
                        names.add(target.id)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                local = alias.asname or alias.name
                imported[local] = node.module
                # PEP 484: in a stub, only `import X as X` (or __all__) re-exports.
                if alias.asname == alias.name:
                    reexports[local] = node.module
                    names.add(local)
    if dunder_all is not None:
        for name in dunder_all:
            if name in imported:
                reexports[name] = imported[name]
            names.add(name)
    return Stub({n for n in names if is_public(n)}, reexports, classes, functions)


def runtime_names() -> set[str]:
    return {n for n in dir(native) if is_public(n)}


def runtime_members(cls: type) -> tuple[set[str], set[str]]:
    """(methods, properties) defined by the class itself."""
    methods, properties = set(), set()
    for name, value in vars(cls).items():
        if not (is_public(name) or name in PROTOCOL_DUNDERS):
            continue
        if inspect.isdatadescriptor(value) or isinstance(value, property):
            properties.add(name)
        else:
            methods.add(name)
    return methods, properties


def native_classes() -> list[str]:
    return sorted(
        n
        for n in runtime_names()
        if isinstance(getattr(native, n), type)
        and getattr(native, n).__module__ != exceptions_module.__name__
    )


@pytest.fixture(scope="module")
def stub() -> Stub:
    return parse_stub()


def test_stub_exists_and_parses(stub: Stub) -> None:
    assert stub.names
    assert stub.classes


def test_every_runtime_name_is_in_the_stub(stub: Stub) -> None:
    missing = runtime_names() - stub.names
    assert not missing, f"in the native module but not in the stub: {sorted(missing)}"


def test_every_stub_name_exists_at_runtime(stub: Stub) -> None:
    extra = stub.names - runtime_names()
    assert not extra, f"in the stub but not in the native module: {sorted(extra)}"


def test_runtime_all_matches(stub: Stub) -> None:
    declared = set(getattr(native, "__all__", []))
    if declared:
        assert declared == runtime_names()


def test_reexported_exceptions_are_the_python_classes(stub: Stub) -> None:
    for name in exceptions_module.__all__:
        assert name in stub.reexports, f"{name} is not re-exported by the stub"
        assert stub.reexports[name] == exceptions_module.__name__
        assert getattr(native, name) is getattr(exceptions_module, name)


def test_functions_and_classes_have_the_right_kind(stub: Stub) -> None:
    for name in stub.functions:
        assert callable(getattr(native, name)), name
        assert not isinstance(getattr(native, name), type), name
    for name in stub.classes:
        assert isinstance(getattr(native, name, None), type), f"{name} is not a class"


@pytest.mark.parametrize("name", native_classes())
def test_class_members_match(stub: Stub, name: str) -> None:
    assert name in stub.classes, f"class {name} is not defined in the stub"
    cls = getattr(native, name)
    stub_cls = stub.classes[name]
    methods, properties = runtime_members(cls)
    stub_methods = {m for m in stub_cls.methods if is_public(m) or m in PROTOCOL_DUNDERS}
    stub_properties = {p for p in stub_cls.properties if is_public(p)}

    assert methods - stub_methods == set(), f"{name}: methods missing from the stub"
    assert stub_methods - methods == set(), f"{name}: stub methods absent at runtime"
    assert properties - stub_properties == set(), f"{name}: properties missing from the stub"
    assert stub_properties - properties == set(), f"{name}: stub properties absent at runtime"

    constructible = "__new__" in vars(cls)
    stub_constructor = "__init__" in stub_cls.methods or "__new__" in stub_cls.methods
    assert constructible == stub_constructor, (
        f"{name}: runtime constructor {constructible}, stub constructor {stub_constructor}"
    )


def stub_params(fn: ast.FunctionDef, *, drop_first: bool) -> list[tuple[str, str, bool, Any]]:
    """(name, kind, has_default, default) like inspect.Parameter, from the stub's AST."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(
        a.defaults
    )
    out: list[tuple[str, str, bool, Any]] = []
    for i, arg in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, defaults[i] is not None, literal(defaults[i])))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False, None))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        out.append((arg.arg, "KEYWORD_ONLY", default is not None, literal(default)))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False, None))
    return out[1:] if drop_first and out else out


_NO_LITERAL = object()


def literal(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _NO_LITERAL


def runtime_params(obj: Any, *, drop_self: bool) -> list[tuple[str, str, bool, Any]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if drop_self and params and params[0].name in {"self", "cls", "$self"}:
        params = params[1:]
    return [
        (
            p.name,
            p.kind.name,
            p.default is not inspect.Parameter.empty,
            p.default if p.default is not inspect.Parameter.empty else None,
        )
        for p in params
    ]


def compare_params(
    where: str,
    runtime: list[tuple[str, str, bool, Any]],
    stub: list[tuple[str, str, bool, Any]],
) -> None:
    # The stub may narrow a positional-or-keyword parameter to positional-only (safe:
    # every call it allows works, as for Coroutine.send); nothing else may differ.
    def shape(params: list[tuple[str, str, bool, Any]]) -> list[tuple[str, str, bool]]:
        return [(n, k, d) for n, k, d, _ in params]

    narrowed = [
        (n, "POSITIONAL_ONLY" if k == "POSITIONAL_OR_KEYWORD" and sk == "POSITIONAL_ONLY" else k, d)
        for (n, k, d), (_, sk, _) in zip(shape(runtime), shape(stub), strict=False)
    ] + shape(runtime)[len(stub) :]
    assert narrowed == shape(stub), f"{where}: runtime {runtime} != stub {stub}"
    for (name, _, has_default, rt_default), (_, _, _, st_default) in zip(
        runtime, stub, strict=True
    ):
        if not has_default or rt_default is ... or st_default is _NO_LITERAL:
            continue  # PyO3 shows some defaults as "..."; the stub may use an expression
        assert rt_default == st_default, f"{where}: default of {name}"


@pytest.mark.parametrize("name", native_classes())
def test_method_signatures_match(stub: Stub, name: str) -> None:
    cls = getattr(native, name)
    stub_cls = stub.classes.get(name)
    if stub_cls is None:
        pytest.fail(f"class {name} is not defined in the stub")
    checked = 0
    for method_name, fn in stub_cls.methods.items():
        if not is_public(method_name):
            continue
        runtime = runtime_params(getattr(cls, method_name, None), drop_self=True)
        if runtime is None:
            continue
        compare_params(f"{name}.{method_name}", runtime, stub_params(fn, drop_first=True))
        checked += 1
    init = stub_cls.methods.get("__init__")
    if init is not None and "__new__" in vars(cls):
        runtime = runtime_params(cls, drop_self=False)
        if runtime is not None:
            compare_params(f"{name}()", runtime, stub_params(init, drop_first=True))
            checked += 1
    public = [m for m in stub_cls.methods if is_public(m)]
    assert checked or not public, f"{name}: no runtime signature could be compared"


def test_function_signatures_match(stub: Stub) -> None:
    for name, fn in stub.functions.items():
        runtime = runtime_params(getattr(native, name), drop_self=False)
        assert runtime is not None, f"{name} has no runtime signature"
        compare_params(name, runtime, stub_params(fn, drop_first=False))


def test_stub_is_shipped_next_to_the_module() -> None:
    package_dir = Path(native.__file__).resolve().parent
    assert (package_dir / "_web_transport.pyi").exists()
    assert (package_dir / "py.typed").exists()
