"""The tools: one registry of tool definitions (compiled from the spec, ``spec/tools.toml``
and the events layer's definitions), which tools a configuration exposes, and how a call
runs (the pipeline: validation, the safety gate, the API request, the result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.tools.catalog import Catalog, load_catalog
    from linq_mcp.tools.pipeline import Pipeline
    from linq_mcp.tools.registry import InventoryError, Registry, load_registry
    from linq_mcp.tools.results import ToolResult
    from linq_mcp.tools.tooldef import ToolDef, ToolReach, Toolset

__all__ = [
    "Catalog",
    "InventoryError",
    "Pipeline",
    "Registry",
    "ToolDef",
    "ToolReach",
    "ToolResult",
    "Toolset",
    "load_catalog",
    "load_registry",
]

__getattr__ = lazy(
    __name__,
    {
        "Catalog": "catalog",
        "load_catalog": "catalog",
        "Pipeline": "pipeline",
        "InventoryError": "registry",
        "Registry": "registry",
        "load_registry": "registry",
        "ToolResult": "results",
        "ToolDef": "tooldef",
        "ToolReach": "tooldef",
        "Toolset": "tooldef",
    },
)
