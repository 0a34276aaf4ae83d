"""``linq-mcp tools``: the one table that says what each tool is."""

from __future__ import annotations

import json
import sys

from .catalog import load_catalog
from .inventory import DEFAULT_TOOLSETS
from .settings import Settings


def rows(settings: Settings) -> list[dict[str, str | bool]]:
    from .inventory import ToolInfo, select

    catalog = load_catalog()
    infos = [ToolInfo(op.tool, op.toolset, op.effect) for op in catalog.operations]
    exposed = set(
        select(
            infos,
            toolsets=settings.toolsets,
            include=settings.tools,
            exclude=settings.exclude_tools,
            read_only=settings.read_only,
            allow_payment_credentials=settings.allow_payment_credentials,
        )
    )
    out: list[dict[str, str | bool]] = []
    for op in sorted(catalog.operations, key=lambda o: (o.toolset not in DEFAULT_TOOLSETS, o.toolset, o.tool)):
        out.append(
            {
                "name": op.tool,
                "toolset": op.toolset,
                "effect": op.effect,
                "method": op.method,
                "path": op.path,
                "enabled": op.tool in exposed,
                "title": op.title,
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
    sys.stdout.write(f"\n{enabled} of {len(table)} API tools enabled with these settings (✓).\n")
    return 0
