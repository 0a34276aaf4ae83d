"""Which tools a server exposes: toolsets, explicit picks, exclusions, read-only mode.

One inventory serves both ``tools/list`` and ``tools/call``, so a tool that is not
listed cannot be called. Filters apply in a fixed, documented order:

1. toolsets (``default`` = messaging, groups, media, events; ``all`` = every toolset except
   the opt-in ones, ``payments`` and ``deprecated``, which are enabled only by their own names);
2. ``tools``: extra tools by name, whatever their toolset;
3. ``exclude_tools``;
4. safety: ``get_payment_credentials`` only with ``allow_payment_credentials``;
5. ``read_only``: only tools whose effect is ``read`` (wins over everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_TOOLSETS: tuple[str, ...] = ("messaging", "groups", "media", "events")
ALL_TOOLSETS: tuple[str, ...] = (
    "messaging",
    "groups",
    "media",
    "events",
    "rich",
    "lines",
    "webhooks",
    "blocklist",
    "payments",
    "deprecated",
)
TOOLSET_DESCRIPTIONS: dict[str, str] = {
    "messaging": "Chats, messages, reactions, typing, capability checks, your lines",
    "groups": "Group chats: rename, participants, leave",
    "media": "Attachments and voice memos",
    "events": "What happened next: delivery, reads, replies (from webhooks or polling)",
    "rich": "Polls, app cards, stickers, location, chat backgrounds, experiences",
    "lines": "Line settings, contact cards, reputation audits",
    "webhooks": "Webhook subscription management",
    "blocklist": "Blocked handles",
    "payments": "Payments and payment requests (off unless named)",
    "deprecated": "Deprecated endpoints kept for compatibility (off unless named)",
}
# Toolsets that ``all`` leaves out: money moves, and endpoints kept only for compatibility.
# They are enabled only when named; a future opt-in toolset (e.g. ``v2``) belongs here too.
OPT_IN_TOOLSETS: tuple[str, ...] = ("payments", "deprecated")
# What ``all`` means: every toolset an operator gets without naming it.
BROAD_TOOLSETS: tuple[str, ...] = tuple(t for t in ALL_TOOLSETS if t not in OPT_IN_TOOLSETS)
CREDENTIAL_TOOLS = frozenset({"get_payment_credentials"})


class InventoryError(ValueError):
    """A toolset or tool name that does not exist."""


@dataclass(frozen=True)
class ToolInfo:
    name: str
    toolset: str
    effect: str


def resolve_toolsets(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            chosen: Sequence[str] = BROAD_TOOLSETS
        elif name == "default":
            chosen = DEFAULT_TOOLSETS
        elif name in ALL_TOOLSETS:
            chosen = (name,)
        else:
            raise InventoryError(
                f"unknown toolset {raw!r}; choose from: default, all (every toolset but "
                f"{' and '.join(OPT_IN_TOOLSETS)}), {', '.join(ALL_TOOLSETS)}"
            )
        out.extend(t for t in chosen if t not in out)
    return out


def select(
    tools: Sequence[ToolInfo],
    *,
    toolsets: Iterable[str] = DEFAULT_TOOLSETS,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    read_only: bool = False,
    allow_payment_credentials: bool = False,
) -> list[str]:
    """The names of the tools to expose, sorted by toolset order then name."""
    known = {t.name: t for t in tools}
    include, exclude = list(include), list(exclude)
    for name in [*include, *exclude]:
        if name not in known:
            raise InventoryError(f"unknown tool {name!r} (see `linq-mcp tools` for the list)")
    sets = resolve_toolsets(toolsets)
    chosen = {t.name for t in tools if t.toolset in sets} | set(include)
    chosen -= set(exclude)
    if not allow_payment_credentials:
        chosen -= CREDENTIAL_TOOLS
    if read_only:
        chosen = {n for n in chosen if known[n].effect == "read"}
    order = {ts: i for i, ts in enumerate(ALL_TOOLSETS)}
    return sorted(chosen, key=lambda n: (order.get(known[n].toolset, 99), n))
