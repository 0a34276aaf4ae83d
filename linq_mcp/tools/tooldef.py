"""What one tool is: the single shape every part of linq-mcp reads.

A :class:`ToolDef` is built once, by the registry, from the spec (API tools), the tool
facts file (``spec/tools.toml``) and the events layer's own definitions. Listing,
selection, validation, the policy and the call path all read the same record. Pure data:
nothing here imports what sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from linq_mcp.api.request import Operation

__all__ = ["Effect", "ToolDef", "ToolReach", "Toolset"]

Effect = Literal["read", "create", "mutate", "visible", "send", "destructive", "secret"]


@dataclass(frozen=True, slots=True)
class ToolReach:
    """How one tool reaches people, and which safety rules follow from that."""

    # argument names holding a handle or a list of handles; a dotted name reaches into an
    # object argument (V2's ``chat.phone_numbers``)
    direct: tuple[str, ...] = ()
    via_chat: bool = False  # acts in args["chat_id"]: its participants see it
    via_message: bool = False  # acts on args["message_id"]: its chat's participants see it
    sends: bool = False  # delivers a message or prompt: counts toward the send caps
    confirms: bool = False  # first contact (or every call, with confirm = always) needs a yes
    new_group: bool = False  # the direct handles become one chat: max_group_size applies
    joins_group: bool = False  # adds the direct handles to the chat: participants + new ≤ max_group_size
    action: str | None = None  # what it does, as a preview and a confirmation question say it
    message_arg: str = "message_id"  # the argument naming the message (V2: chat_message_id)

    @property
    def needs_participants(self) -> bool:
        return self.via_chat or self.via_message

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ToolReach:
        return cls(**{**data, "direct": tuple(data.get("direct", ()))})


@dataclass(frozen=True, slots=True)
class Toolset:
    name: str
    description: str
    default: bool = False  # enabled when no toolset is named
    opt_in: bool = False  # left out of ``all``: enabled only by its own name


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool: how it is listed, checked, gated and carried out."""

    name: str
    toolset: str
    effect: Effect
    title: str
    description: str
    annotations: Mapping[str, bool]  # every MCP hint (the listing leaves out the defaults)
    input_schema: dict[str, Any]  # the listed schema
    output_schema: dict[str, Any] | None
    validation_schema: dict[str, Any]  # what arguments are checked against (the listed one plus the body rules)
    reach: ToolReach | None = None  # None: it reaches nobody (reads, our own settings, local tools)
    credential: bool = False  # returns credentials: exposed only when allowed
    # How an API tool becomes a request; None for a tool a layer carries out locally (events).
    operation: Operation | None = None

    @property
    def kind(self) -> Literal["api", "local"]:
        return "api" if self.operation is not None else "local"

    @property
    def read_only(self) -> bool:
        """Only the annotation says so (as in GitHub's MCP server)."""
        return self.annotations.get("readOnlyHint", False) is True

    @property
    def repeat_harmless(self) -> bool:
        """Repeating the exact same call has no further effect (the idempotentHint)."""
        return self.annotations.get("idempotentHint", False) is True

    @property
    def confirms(self) -> bool:
        return self.reach is not None and self.reach.confirms

    @property
    def sends(self) -> bool:
        """Takes an ``idempotency_key``: everything that delivers to a person or creates money flows."""
        return self.effect == "send" or (self.operation is not None and self.operation.deduplicated)
