"""The import graph of ``linq_mcp``, read from the source (AST, nothing imported).

An edge ``a -> b`` is an import of module ``b`` in module ``a`` outside ``if TYPE_CHECKING:``
blocks; each edge knows whether it runs at import time (module level) or is deferred
(inside a function), since the cycle rule is about the first and dependencies are both.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "linq_mcp"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    deferred: bool  # inside a function body: runs when called, not on import


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(body: list[ast.stmt], deferred: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for node in body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _imports(node.orelse, deferred)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node, deferred
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node.body, True)
        else:
            for name in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, name, None)
                if isinstance(block, list):
                    yield from _imports([n for n in block if isinstance(n, ast.stmt | ast.excepthandler)], deferred)  # type: ignore[misc]


def lazy_exports(path: Path) -> dict[str, str]:
    """A package ``__init__``'s exports by name -> defining module (its ``if TYPE_CHECKING:`` imports)."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                    for alias in statement.names:
                        found[alias.asname or alias.name] = statement.module
    return found


@cache
def edges(external: tuple[str, ...] = ()) -> tuple[Edge, ...]:
    """Imports between the package's modules, plus imports of the ``external`` top-level names.

    ``from linq_mcp.policy import Policy`` is an edge to ``linq_mcp.policy.engine``: the package
    exports it lazily, so that is the module the import really loads.
    """
    known = modules()
    exported = {name: lazy_exports(path) for name, path in known.items() if path.name == "__init__.py"}
    found: set[Edge] = set()
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text("utf-8"))
        for node, deferred in _imports(tree.body, False):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                targets = [_target(module, alias.name, known, exported) for alias in node.names]
            for target in targets:
                if target in known or target.split(".")[0] in external:
                    if target != name:
                        found.add(Edge(name, target if target in known else target.split(".")[0], deferred))
    return tuple(sorted(found, key=lambda e: (e.source, e.target, e.deferred)))


def _target(module: str, name: str, known: dict[str, Path], exported: dict[str, dict[str, str]]) -> str:
    if f"{module}.{name}" in known:
        return f"{module}.{name}"  # a submodule
    return exported.get(module, {}).get(name, module)


def package_of(module: str) -> str:
    """``linq_mcp.api.client`` -> ``api``; the top-level modules (``linq_mcp._exports``) -> ``linq_mcp``."""
    parts = module.split(".")
    if parts[0] != "linq_mcp":
        return parts[0]
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else "linq_mcp"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
