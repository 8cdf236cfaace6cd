"""Imports only flow down (ui -> rag -> index) and never in a circle, read statically from the source.

Every import counts: at module level, inside functions (lazy) and under ``TYPE_CHECKING``, since a circle
that only type hints or a lazy import close is still two modules that cannot be understood apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"index": 0, "rag": 1, "ui": 2}
"""A package may import its own layer and those below it, never one above."""
OUTSIDE = ("evals", "benchmarks", "training", "tests")
"""Packages built on top of the runtime: nothing in rag/, index/ or ui/ imports them."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_modules() -> dict[str, Path]:
    return {module_name(p): p for package in LAYERS for p in sorted((ROOT / package).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules (and outside packages of ``OUTSIDE``) that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from rag import values`` imports the module rag.values; ``from rag.values import Answer`` rag.values.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            top = target.split(".")[0]
            if top in OUTSIDE:
                found.add(top)
            elif top in LAYERS:
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                if target in known and target != name:
                    found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = runtime_modules()
    return {name: imported(name, path, set(modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def upward(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a higher layer, or of a package built on top of the runtime."""
    found = []
    for name, targets in sorted(graph.items()):
        layer = LAYERS[name.split(".")[0]]
        for target in sorted(targets):
            top = target.split(".")[0]
            if top in OUTSIDE or LAYERS[top] > layer:
                found.append(f"{name} -> {target}")
    return found


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "rag.values" in graph["rag"]  # lazy, in __getattr__
    assert "index.catalog" in graph["rag.retrieval"]  # module level
    assert "rag.llamaindex" in graph["rag.assistant"]  # inside a method


def test_no_import_cycle_in_rag_index_ui():
    assert cycles(import_graph()) == []


def test_imports_only_flow_down_ui_rag_index():
    assert upward(import_graph()) == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"rag.a": {"rag.b"}, "rag.b": {"rag.a"}, "rag.c": {"rag.a"}}, [["rag.a", "rag.b"]]),
    ({"rag.a": {"rag.b"}, "rag.b": {"rag.c"}, "rag.c": {"rag.a"}}, [["rag.a", "rag.b", "rag.c"]]),
    ({"rag.a": {"rag.b"}, "rag.b": {"index.c"}, "index.c": set()}, []),
])
def test_cycles_finds_every_circle_and_nothing_else(graph, expected):
    assert cycles(graph) == expected


def test_upward_names_imports_of_a_higher_layer():
    graph = {"index.a": {"rag.b"}, "rag.b": {"index.a", "ui.c", "evals"}, "ui.c": {"rag.b"}}
    assert upward(graph) == ["index.a -> rag.b", "rag.b -> evals", "rag.b -> ui.c"]
