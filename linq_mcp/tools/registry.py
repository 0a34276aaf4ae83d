"""The one registry of tools: every :class:`ToolDef`, the toolsets, and which tools a server exposes.

Built once per process from the compiled catalog (the spec plus ``spec/tools.toml``) and
the events layer's own definitions (``events/specs.py``). ``tools/list``, ``tools/call``,
the policy and ``linq-mcp tools`` all read it, so a tool that is not listed cannot be
called. Filters apply in a fixed, documented order:

1. toolsets (``default`` = the toolsets marked default; ``all`` = every toolset except the
   opt-in ones, which are enabled only by their own names);
2. ``tools``: extra tools by name, whatever their toolset;
3. ``exclude_tools``;
4. safety: credential tools only with ``allow_payment_credentials``;
5. ``read_only``: only tools annotated ``readOnlyHint`` (wins over everything).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linq_mcp.events.specs import TOOL_SPECS
from linq_mcp.tools.catalog import load_catalog
from linq_mcp.tools.dialect import admits_errors, portable
from linq_mcp.tools.tooldef import ToolDef, ToolReach, Toolset

if TYPE_CHECKING:
    from linq_mcp.config.settings import Settings

__all__ = ["InventoryError", "Registry", "ToolDef", "ToolReach", "Toolset", "in_words", "load_registry"]


class InventoryError(ValueError):
    """A toolset or tool name that does not exist."""


@dataclass(frozen=True)
class Registry:
    """Every tool linq-mcp has, in listing order (toolset order, then name)."""

    tools: Mapping[str, ToolDef]
    toolsets: tuple[Toolset, ...]

    @classmethod
    def of(cls, tools: Iterable[ToolDef], toolsets: Iterable[Toolset]) -> Registry:
        sets = tuple(toolsets)
        order = {t.name: i for i, t in enumerate(sets)}
        ordered: dict[str, ToolDef] = {}
        for tool in sorted(tools, key=lambda t: (order.get(t.toolset, len(order)), t.name)):
            if tool.name in ordered:
                raise ValueError(f"two tools are named {tool.name}")
            if tool.toolset not in order:
                raise ValueError(f"{tool.name}: undeclared toolset {tool.toolset!r}")
            ordered[tool.name] = tool
        return cls(ordered, sets)

    def __getitem__(self, name: str) -> ToolDef:
        return self.tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __iter__(self) -> Iterator[ToolDef]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    def reach(self, name: str) -> ToolReach | None:
        """Whom ``name`` reaches, or ``None`` when it reaches nobody (or is unknown)."""
        tool = self.tools.get(name)
        return tool.reach if tool is not None else None

    # ---- toolsets ------------------------------------------------------------------

    @property
    def toolset_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.toolsets)

    @property
    def default_toolsets(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.toolsets if t.default)

    @property
    def opt_in_toolsets(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.toolsets if t.opt_in)

    @property
    def broad_toolsets(self) -> tuple[str, ...]:
        """What ``all`` means: every toolset an operator gets without naming it."""
        return tuple(t.name for t in self.toolsets if not t.opt_in)

    def description_of(self, toolset: str) -> str:
        return next((t.description for t in self.toolsets if t.name == toolset), toolset)

    def resolve_toolsets(self, names: Iterable[str]) -> list[str]:
        out: list[str] = []
        for raw in names:
            name = raw.strip().lower()
            if not name:
                continue
            if name == "all":
                chosen: tuple[str, ...] = self.broad_toolsets
            elif name == "default":
                chosen = self.default_toolsets
            elif name in self.toolset_names:
                chosen = (name,)
            else:
                raise InventoryError(
                    f"unknown toolset {raw!r}; choose from: default, all (every toolset but "
                    f"{in_words(self.opt_in_toolsets)}), {', '.join(self.toolset_names)}"
                )
            out.extend(t for t in chosen if t not in out)
        return out

    # ---- selection -----------------------------------------------------------------

    def select(
        self,
        *,
        toolsets: Iterable[str] = ("default",),
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        read_only: bool = False,
        allow_payment_credentials: bool = False,
    ) -> tuple[ToolDef, ...]:
        """The tools to expose, in listing order."""
        include, exclude = list(include), list(exclude)
        for name in [*include, *exclude]:
            if name not in self.tools:
                raise InventoryError(f"unknown tool {name!r} (see `linq-mcp tools` for the list)")
        sets = set(self.resolve_toolsets(toolsets))
        chosen = {t.name for t in self if t.toolset in sets} | set(include)
        chosen -= set(exclude)
        return tuple(
            t
            for t in self
            if t.name in chosen and (allow_payment_credentials or not t.credential) and (t.read_only or not read_only)
        )

    def exposed(self, settings: Settings) -> tuple[ToolDef, ...]:
        """The tools these settings expose (the one filter behind tools/list, tools/call and the table)."""
        return self.select(
            toolsets=settings.toolsets,
            include=settings.tools,
            exclude=settings.exclude_tools,
            read_only=settings.read_only,
            allow_payment_credentials=settings.allow_payment_credentials,
        )


def in_words(names: Sequence[str]) -> str:
    """``payments, deprecated and v2``."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def local_tool(spec: Mapping[str, Any]) -> ToolDef:
    """A tool a layer carries out itself, from that layer's definition (listed in the portable dialect)."""
    output = spec["output_schema"]
    return ToolDef(
        name=spec["name"],
        toolset=spec["toolset"],
        effect=spec["effect"],
        title=spec["title"],
        description=spec["description"],
        annotations=dict(spec["annotations"]),
        input_schema=portable(spec["input_schema"]),
        output_schema=admits_errors(output) if output is not None else None,
        validation_schema=spec["input_schema"],
    )


@functools.cache
def load_registry() -> Registry:
    """The registry of the shipped spec, facts and layers (built once per process)."""
    catalog = load_catalog()
    return Registry.of([*catalog.tools, *(local_tool(spec) for spec in TOOL_SPECS)], catalog.toolsets)
