"""``linq-mcp tools``: the one table that says what each tool is."""

from __future__ import annotations

import json
import sys

from linq_mcp.config.settings import Settings
from linq_mcp.tools.catalog import load_catalog
from linq_mcp.tools.inventory import DEFAULT_TOOLSETS, OPT_IN_TOOLSETS


def rows(settings: Settings) -> list[dict[str, str | bool]]:
    from typing import Any, cast

    from linq_mcp.events.tools import event_tools
    from linq_mcp.server.runtime import exposed_names
    from linq_mcp.tools.inventory import ToolInfo

    catalog = load_catalog()
    entries: list[tuple[str, str, str, str, str, str]] = [
        (op.tool, op.toolset, op.effect, op.method, op.path, op.title) for op in catalog.operations
    ]
    # The events tools' definitions, without a store behind them (their handlers are not called here).
    for tool in event_tools(cast(Any, None)):
        entries.append((tool.name, tool.toolset, tool.effect, "-", "(linq-mcp)", tool.title))
    exposed = set(exposed_names(settings, [ToolInfo(name, toolset, effect) for name, toolset, effect, *_ in entries]))
    out: list[dict[str, str | bool]] = []
    for name, toolset, effect, method, path, title in sorted(
        entries, key=lambda e: (e[1] not in DEFAULT_TOOLSETS, e[1], e[0])
    ):
        out.append(
            {
                "name": name,
                "toolset": toolset,
                "effect": effect,
                "method": method,
                "path": path,
                "enabled": name in exposed,
                "title": title,
            }
        )
    return out


def print_tool_table(settings: Settings, *, as_json: bool = False) -> int:
    table = rows(settings)
    if as_json:
        sys.stdout.write(json.dumps(table, indent=1) + "\n")
        return 0
    width = max(len(str(r["name"])) for r in table)
    sys.stdout.write(f"{'tool':<{width}}  {'toolset':<10}  {'effect':<11}  on  summary\n")
    for r in table:
        mark = "✓" if r["enabled"] else " "
        sys.stdout.write(f"{r['name']:<{width}}  {r['toolset']:<10}  {r['effect']:<11}  {mark}   {r['title']}\n")
    enabled = sum(1 for r in table if r["enabled"])
    sys.stdout.write(f"\n{enabled} of {len(table)} tools enabled with these settings (✓).\n")
    off = [t for t in OPT_IN_TOOLSETS if not any(r["enabled"] for r in table if r["toolset"] == t)]
    if off:
        names = " and ".join(off)
        sys.stdout.write(f"{names} are enabled only by name ('all' leaves them out): e.g. --toolsets all,{off[0]}.\n")
    return 0
