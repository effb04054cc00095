"""The layout's rules, read from the source of `runner/` (issue 9).

No module over 600 lines; imports point one way (no cycle among `runner` modules, imports
inside functions and under `TYPE_CHECKING` included, and imports by name: a module that calls
`importlib.import_module` imports every `runner` module its string constants name, as
`runner.output.writers.WRITERS` does); imports point down the layers of
docs/architecture.md, never up; each wrapped library is imported by the one module that
wraps it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runner"
MAX_LINES = 600
# Top-level import name -> the one module allowed to import it.
WRAPPED = {
    "boto3": "runner.boto",
    "botocore": "runner.boto",
    "ruamel": "runner.yaml.events",
    "typer": "runner.cli",
}
# docs/architecture.md's layers, top to bottom: each `runner` module is in one (a prefix
# names a package and its modules); a module imports only from its layer or those below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("runner.cli", "runner.__main__"),
    ("runner.commands",),
    ("runner.output",),
    ("runner.reconcile",),
    ("runner.planner", "runner.saved_plan", "runner.recurring", "runner.remote"),
    ("runner.spec",),
    ("runner.schedule",),
    ("runner.state",),
    ("runner.backends",),
    ("runner.engine",),
    ("runner.boto",),
    ("runner.config",),
    (
        "runner",
        "runner.kinds",
        "runner.service",
        "runner.rules",
        "runner.findings",
        "runner.errors",
        "runner.yaml",
        "runner.fs",
        "runner.jsonread",
        "runner.times",
        "runner.arn",
        "runner.digest",
        "runner.extras",
        "runner.faults",
        "runner.parallel",
        "runner.signals",
        "runner.deadline",
    ),
)
DOCS = ROOT / "docs" / "architecture.md"
# A string constant that names a module to import: `runner.output.plan:render_text`.
_MODULE_NAME = re.compile(r"(runner(?:\.\w+)+)(?::\w+)?")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def _tree(module: str) -> ast.Module:
    path = _modules()[module]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(module: str) -> Iterator[str]:
    return _imports_of(_tree(module), module, is_package=_modules()[module].name == "__init__.py")


def _imports_of(tree: ast.Module, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module name a module imports, anywhere in it, relative imports resolved.

    `from a import b` names `a` and `a.b`: `a.b` counts when it is a module. A module that
    imports by name (`importlib.import_module`) imports what its string constants name.
    """
    if _imports_by_name(tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = _MODULE_NAME.fullmatch(node.value)
                if match:
                    yield match.group(1)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = module.split(".")
                # `from . import x` in a module is its package; in a package, itself.
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop]
                target = ".".join([*base, target] if target else base)
            yield target
            for alias in node.names:
                yield f"{target}.{alias.name}"


def _name_imports(tree: ast.Module) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                yield node


def _imports_by_name(tree: ast.Module) -> bool:
    return any(True for _ in _name_imports(tree))


def _unreadable(tree: ast.Module) -> list[int]:
    """The lines that import by a name neither literal nor in a table of the module's."""
    table = any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _MODULE_NAME.fullmatch(node.value)
        for node in ast.walk(tree)
    )
    return [
        call.lineno
        for call in _name_imports(tree)
        if not table and not (call.args and isinstance(call.args[0], ast.Constant))
    ]


def unreadable_imports() -> list[str]:
    """Imports by a name this test cannot read, so cannot count."""
    return [
        f"{module}:{line}: imports a module by a name not written in the module (the "
        "architecture test cannot see that import)"
        for module in _modules()
        for line in _unreadable(_tree(module))
    ]


def _dependencies() -> dict[str, set[str]]:
    """For each `runner` module, the `runner` modules it imports (submodules by name)."""
    modules = _modules()
    return {
        module: {name for name in _imported(module) if name in modules and name != module}
        for module in modules
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(components)


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, for the message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted(graph[node] & members):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle in {component}")  # pragma: no cover


def long_modules() -> list[str]:
    found = []
    for path in _modules().values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_LINES})")
    return found


def import_cycles() -> list[str]:
    graph = _dependencies()
    return [
        f"cycle among {', '.join(component)}: {' -> '.join(_one_cycle(graph, component))}"
        for component in _cycles(graph)
    ]


def _layer(module: str) -> int | None:
    for depth, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            # `runner` names the package's own `__init__` only, not all of it.
            if module == prefix or (prefix != "runner" and module.startswith(f"{prefix}.")):
                return depth
    return None


def upward_imports(graph: dict[str, set[str]] | None = None) -> list[str]:
    """Imports from a layer up to one above it, and modules in no layer."""
    found = []
    graph = _dependencies() if graph is None else graph
    for module in sorted(graph):
        depth = _layer(module)
        if depth is None:
            found.append(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
            continue
        for target in sorted(graph[module]):
            above = _layer(target)
            if above is not None and above < depth:
                found.append(
                    f"{module} (layer {depth + 1}) imports {target} (layer {above + 1}, above it)"
                )
    return found


def documented_layers() -> tuple[tuple[str, ...], ...]:
    """The layers docs/architecture.md lists under "Layers", as module prefixes."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("## Layers", 1)[1].split("```", 2)[1]
    layers: list[list[str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        paths = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if not line.startswith(" "):
            layers.append([])
        for path in (part.strip() for part in paths.split(",")):
            if path:
                name = path.removeprefix("runner/").removesuffix("/").removesuffix(".py")
                dotted = name.replace("/", ".")
                layers[-1].append("runner" if dotted == "__init__" else f"runner.{dotted}")
    return tuple(tuple(layer) for layer in layers)


def wrapped_imports(library: str) -> list[str]:
    importers = sorted(
        module
        for module in _modules()
        if any(name.split(".")[0] == library for name in _imported(module))
    )
    owner = WRAPPED[library]
    if importers == [owner]:
        return []
    return [f"{library} is imported by {importers or 'no module'}: only {owner} should"]


def test_no_module_is_over_600_lines() -> None:
    assert long_modules() == []


def test_no_import_cycle_among_runner_modules() -> None:
    assert import_cycles() == []


def test_imports_point_down_the_layers() -> None:
    assert upward_imports() == []


def test_the_layers_are_those_of_the_architecture_page() -> None:
    assert documented_layers() == LAYERS


def test_every_import_by_name_is_written_in_its_module() -> None:
    assert unreadable_imports() == []


@pytest.mark.parametrize("library", sorted(WRAPPED))
def test_a_wrapped_library_is_imported_by_one_module(library: str) -> None:
    assert wrapped_imports(library) == []


_SOURCE = """
import importlib
import runner.a
from runner import b
from . import c
from .d import e

def f():
    from ..g import h
    if True:
        import boto3.session

TABLE = {"text": "runner.k:render", "title": "runner k"}

def by_name():
    return importlib.import_module("runner.m")
"""


@pytest.mark.parametrize(
    ("module", "is_package", "expected"),
    [
        (
            "runner.x.y",
            False,
            {
                "runner.a",
                "runner",
                "runner.b",
                "runner.x",
                "runner.x.c",
                "runner.x.d",
                "runner.x.d.e",
                "runner.g",
                "runner.g.h",
                "boto3.session",
                "importlib",
                "runner.k",
                "runner.m",
            },
        ),
        (
            "runner.x",
            True,
            {
                "runner.a",
                "runner",
                "runner.b",
                "runner.x",
                "runner.x.c",
                "runner.x.d",
                "runner.x.d.e",
                "runner.g",
                "runner.g.h",
                "boto3.session",
                "importlib",
                "runner.k",
                "runner.m",
            },
        ),
    ],
)
def test_the_import_reader_sees_every_kind_of_import(
    module: str, is_package: bool, expected: set[str]
) -> None:
    # The rules above are only as good as this reader: absolute, relative, submodule,
    # function-level imports, and imports by a name written in the module.
    found = set(_imports_of(ast.parse(_SOURCE), module, is_package=is_package))
    assert found == expected


def test_cycles_are_found_through_every_member() -> None:
    graph = {
        "runner.a": {"runner.b"},
        "runner.b": {"runner.c"},
        "runner.c": {"runner.a"},
        "runner.d": {"runner.a"},
    }
    assert _cycles(graph) == [["runner.a", "runner.b", "runner.c"]]
    assert _one_cycle(graph, ["runner.a", "runner.b", "runner.c"]) == [
        "runner.a",
        "runner.b",
        "runner.c",
        "runner.a",
    ]
    # Function-level imports count: runner.yaml.reader imports its events only inside decode().
    assert "runner.yaml.events" in _dependencies()["runner.yaml.reader"]
    # So do imports by name: the writers' table imports each writer when it is used.
    assert "runner.output.plan" in _dependencies()["runner.output.writers"]


def test_an_import_by_a_name_not_written_in_the_module_is_unreadable() -> None:
    source = "import importlib\n\ndef f(name):\n    return importlib.import_module(name)\n"
    assert _unreadable(ast.parse(source)) == [4]
    assert _unreadable(ast.parse(source + "TABLE = ('runner.a:f',)\n")) == []
    assert _unreadable(ast.parse(source.replace("module(name)", "module('runner.a')"))) == []


def test_an_import_up_the_layers_is_found() -> None:
    graph: dict[str, set[str]] = {module: set() for module in _modules()}
    # Without runner.service, the aws errors would be the backends' (layer 9) in boto (11).
    graph["runner.boto"] = {"runner.backends", "runner.errors"}
    graph["runner.errors"] = {"runner.boto"}
    assert upward_imports(graph) == [
        f"runner.boto (layer {LAYERS.index(('runner.boto',)) + 1}) imports runner.backends "
        f"(layer {LAYERS.index(('runner.backends',)) + 1}, above it)",
        f"runner.errors (layer {len(LAYERS)}) imports runner.boto "
        f"(layer {LAYERS.index(('runner.boto',)) + 1}, above it)",
    ]
    assert upward_imports({**graph, "runner.newcomer": set()}) == [
        *upward_imports(graph),
        "runner.newcomer is in no layer: add it to LAYERS and docs/architecture.md",
    ]


if __name__ == "__main__":
    # `python -m tests.architecture_test`: every violation, one a line.
    violations = [
        *long_modules(),
        *import_cycles(),
        *unreadable_imports(),
        *upward_imports(),
        *(
            []
            if documented_layers() == LAYERS
            else ["docs/architecture.md's layers are not LAYERS in tests/architecture_test.py"]
        ),
        *(line for library in sorted(WRAPPED) for line in wrapped_imports(library)),
    ]
    print("\n".join(violations) or "no violations")
    sys.exit(1 if violations else 0)
