"""The tools: the catalog compiled from the spec, which tools a configuration exposes, and
how a call runs (validation, the safety guard, the API request, the result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.tools.catalog import Catalog, Operation, load_catalog
    from linq_mcp.tools.inventory import InventoryError, select

__all__ = ["Catalog", "InventoryError", "Operation", "load_catalog", "select"]

__getattr__ = lazy(
    __name__,
    {
        "Catalog": "catalog",
        "Operation": "catalog",
        "load_catalog": "catalog",
        "InventoryError": "inventory",
        "select": "inventory",
    },
)
