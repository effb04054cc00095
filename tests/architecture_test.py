"""The layout's rules, read from the source of `runner/` (issue 9).

No module over 600 lines; imports point one way (no cycle among `runner` modules, imports
inside functions and under `TYPE_CHECKING` included); each wrapped library is imported by
the one module that wraps it.
"""

from __future__ import annotations

import ast
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

    `from a import b` names `a` and `a.b`: `a.b` counts when it is a module.
    """
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


@pytest.mark.parametrize("library", sorted(WRAPPED))
def test_a_wrapped_library_is_imported_by_one_module(library: str) -> None:
    assert wrapped_imports(library) == []


_SOURCE = """
import runner.a
from runner import b
from . import c
from .d import e

def f():
    from ..g import h
    if True:
        import boto3.session
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
            },
        ),
    ],
)
def test_the_import_reader_sees_every_kind_of_import(
    module: str, is_package: bool, expected: set[str]
) -> None:
    # The rules above are only as good as this reader: absolute, relative, submodule and
    # function-level imports.
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
    # Function-level imports count: runner.yaml imports its events only inside decode().
    assert "runner.yaml.events" in _dependencies()["runner.yaml"]


if __name__ == "__main__":
    # `python -m tests.architecture_test`: every violation, one a line.
    violations = [
        *long_modules(),
        *import_cycles(),
        *(line for library in sorted(WRAPPED) for line in wrapped_imports(library)),
    ]
    print("\n".join(violations) or "no violations")
    sys.exit(1 if violations else 0)
