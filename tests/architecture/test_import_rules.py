"""The layering rules of ``linq_mcp``, checked on the source's import statements (fast, nothing imported)."""

from __future__ import annotations

import re

from architecture_imports import ROOT, cycles, edges, modules, package_of, reachable

SENDS = ("linq_mcp.api.client", "linq_mcp.server", "httpx")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def graph(*, deferred: bool, external: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """Module -> the modules it imports; with ``deferred``, imports inside functions count too."""
    found: dict[str, set[str]] = {name: set() for name in modules()}
    for edge in edges(external):
        if deferred or not edge.deferred:
            found.setdefault(edge.source, set()).add(edge.target)
    return found


def sends(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in SENDS)


def test_no_module_is_in_an_import_cycle_at_import_time() -> None:
    assert cycles(graph(deferred=False)) == []


def test_no_module_is_in_an_import_cycle_even_through_deferred_imports() -> None:
    """A function-level import is a dependency too: deferring one only hides a cycle."""
    assert cycles(graph(deferred=True)) == []


def test_the_policy_imports_nothing_that_sends() -> None:
    """Not the client, not httpx, not the server: the policy decides; others send."""
    everything = graph(deferred=True, external=("httpx",))
    for module in (m for m in everything if m.startswith("linq_mcp.policy")):
        assert [m for m in reachable(everything, module) if sends(m)] == [], module


def test_the_tool_catalog_imports_nothing_from_the_client() -> None:
    everything = graph(deferred=True, external=("httpx",))
    for module in ("linq_mcp.tools.catalog", "linq_mcp.tools.registry"):
        if module in everything:
            found = reachable(everything, module)
            assert "linq_mcp.api.client" not in found and "httpx" not in found, module


def drawn_package_graph() -> set[tuple[str, str]]:
    """The arrows of the ``mermaid`` package diagram in docs/architecture.md."""
    text = ARCHITECTURE.read_text("utf-8")
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md draws the packages in a ```mermaid block"
    return set(re.findall(r"^\s*(\w+)\s*-->\s*(\w+)\s*$", block.group(1), re.M))


def test_the_package_graph_is_the_one_drawn_in_docs_architecture() -> None:
    """One arrow per package dependency (any import, deferred too), no more and no fewer.

    The root package (``linq_mcp/__init__``, ``__main__``, the lazy-export helper) is left out:
    every package uses it and it uses nothing.
    """
    actual = {
        (package_of(e.source), package_of(e.target))
        for e in edges()
        if package_of(e.source) != package_of(e.target)
        and "linq_mcp" not in (package_of(e.source), package_of(e.target))
    }
    drawn = drawn_package_graph()
    assert sorted(actual - drawn) == [], "imports the drawing lacks"
    assert sorted(drawn - actual) == [], "arrows no import supports"
