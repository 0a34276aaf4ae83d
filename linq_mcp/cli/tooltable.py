"""``linq-mcp tools``: the one table that says what each tool is."""

from __future__ import annotations

import json
import sys

from linq_mcp.config.settings import Settings
from linq_mcp.tools.registry import in_words, load_registry


def rows(settings: Settings) -> list[dict[str, str | bool]]:
    registry = load_registry()
    exposed = {t.name for t in registry.exposed(settings)}
    default = set(registry.default_toolsets)
    out: list[dict[str, str | bool]] = []
    for tool in sorted(registry, key=lambda t: (t.toolset not in default, t.toolset, t.name)):
        op = tool.operation
        out.append(
            {
                "name": tool.name,
                "toolset": tool.toolset,
                "effect": tool.effect,
                "method": op.method if op is not None else "-",
                "path": op.path if op is not None else "(linq-mcp)",
                "enabled": tool.name in exposed,
                "title": tool.title,
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
    off = [t for t in load_registry().opt_in_toolsets if not any(r["enabled"] for r in table if r["toolset"] == t)]
    if off:
        names = in_words(off)
        sys.stdout.write(f"{names} are enabled only by name ('all' leaves them out): e.g. --toolsets all,{off[0]}.\n")
    return 0
