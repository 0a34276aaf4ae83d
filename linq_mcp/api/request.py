"""One request to Linq, built from a tool's arguments: pure, and free of httpx.

An :class:`Operation` is the HTTP shape of one API operation (method, path, where each
argument goes, where Linq reads an idempotency key). ``Operation.request`` is the one
place a key is put into a request; ``Operation.caller_key`` the one place a key the
caller wrote where Linq reads it is found. The client (``api/client.py``) only sends.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

__all__ = ["ApiRequest", "IdempotencyPlace", "Location", "Operation", "Param"]

Location = Literal["path", "query", "body", "local"]  # local: checked by linq-mcp, never sent
# Where Linq reads a send's idempotency key: inside the body's message or poll object, the
# Idempotency-Key header, or nowhere (Linq does not de-duplicate the operation).
IdempotencyPlace = Literal["message", "poll", "header", "none"]


@dataclass(frozen=True)
class ApiRequest:
    """One call to Linq, already built from a tool's arguments."""

    method: str  # "GET", "POST", ...
    path: str  # formatted, e.g. "/v3/chats/6f1c.../messages"
    query: list[tuple[str, str]] = field(default_factory=list)  # repeated keys allowed
    json: Any | None = None  # body, or None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Idempotency-Key": "..."}
    replay_safe: bool = False  # True when sending it twice cannot act twice
    idempotency_key: str | None = None  # the key Linq de-duplicates this request by, when it carries one
    api: str = "v3"  # "v2": the legacy API (its own base URL and X-LINQ-INTEGRATION-TOKEN)
    form: bool = False  # send ``json`` as multipart/form-data fields (V2 chat_messages)


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # the tool argument
    api_name: str  # the name on the wire
    location: Location
    required: bool
    repeated: bool = False  # a query array sent as repeated keys


@dataclass(frozen=True, slots=True)
class Operation:
    """The HTTP shape of one API operation."""

    method: str
    path: str
    sdk_name: str
    idempotency: IdempotencyPlace
    pagination: str | None
    params: tuple[Param, ...]
    has_body: bool
    success_status: int
    api: str = "v3"  # which Linq API serves it ("v2": the legacy one): auth, base URL and error format follow
    body_format: str = "json"  # "form": the body goes as multipart/form-data (V2 chat_messages)

    @property
    def deduplicated(self) -> bool:
        """Linq itself de-duplicates a key sent with this operation."""
        return self.idempotency != "none"

    def caller_key(self, args: Mapping[str, Any]) -> str | None:
        """A key the caller put where Linq reads it (``message.idempotency_key``): it counts as theirs."""
        if self.idempotency in ("message", "poll"):
            container = args.get(self.idempotency)
            if isinstance(container, dict) and isinstance(container.get("idempotency_key"), str):
                return str(container["idempotency_key"])
        return None

    def request(self, args: Mapping[str, Any], *, key: str | None = None, repeat_harmless: bool = False) -> ApiRequest:
        """Map validated arguments (no control arguments) onto the HTTP request, with ``key`` placed
        where Linq reads it. ``repeat_harmless``: sending it twice has no further effect."""
        path = self.path
        query: list[tuple[str, str]] = []
        body: dict[str, Any] = {}
        for param in self.params:
            if param.name not in args:
                continue
            value = args[param.name]
            if param.location == "local":
                continue
            if param.location == "path":
                path = path.replace("{" + param.api_name + "}", quote(str(value), safe=""))
            elif param.location == "query":
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if item is None:
                        continue
                    query.append((param.api_name, _query_value(item)))
            else:
                body[param.api_name] = copy.deepcopy(value)
        headers: dict[str, str] = {}
        placed: str | None = None
        if key is not None:
            if self.idempotency in ("message", "poll") and isinstance(body.get(self.idempotency), dict):
                body[self.idempotency]["idempotency_key"] = key
                placed = key
            elif self.idempotency == "header":
                headers["Idempotency-Key"] = key
                placed = key
        return ApiRequest(
            method=self.method,
            path=path,
            query=query,
            json=body if (self.has_body or body) else None,
            headers=headers,
            replay_safe=placed is not None or repeat_harmless or self.method in ("GET", "PUT"),
            idempotency_key=placed,
            api=self.api,
            form=self.body_format == "form",
        )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
