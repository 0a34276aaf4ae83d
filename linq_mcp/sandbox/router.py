"""A tiny declarative router: each route module lists its operations as handlers.

A handler is ``async (ctx: Ctx) -> Reply``. It raises :class:`LinqError` for any
failure; the app turns that into Linq's envelope. Handlers never see Starlette.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import LinqError

if TYPE_CHECKING:
    from .state import World


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    world: World
    method: str
    path: str
    path_params: dict[str, str]
    query: Mapping[str, str]
    query_lists: dict[str, list[str]]
    headers: Mapping[str, str]
    raw_body: bytes
    trace_id: str
    operation: str
    _json: Any = None
    _parsed: bool = False

    def json(self, *, required: bool = True) -> Any:
        """The request body as JSON; 1003 when it is not JSON, ``{}`` when empty and optional."""
        if not self._parsed:
            self._parsed = True
            if not self.raw_body.strip():
                self._json = None
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise LinqError(400, 1003, f"Invalid request body: malformed JSON ({exc})") from None
        if self._json is None:
            if required:
                raise LinqError(400, 1003, "Invalid request body: a JSON object is required")
            return {}
        return self._json

    def body(self, *, required: bool = True) -> dict[str, Any]:
        data = self.json(required=required)
        if not isinstance(data, dict):
            raise LinqError(400, 1003, "Invalid request body: expected a JSON object")
        return data


Handler = Callable[[Ctx], Awaitable[Reply]]


@dataclass(frozen=True)
class RouteDef:
    method: str
    path: str  # OpenAPI style: /v3/chats/{chat_id}
    operation: str  # tool name from operations.tsv
    handler: Handler


class Router:
    def __init__(self) -> None:
        self.routes: list[RouteDef] = []

    def add(self, method: str, path: str, operation: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(RouteDef(method.upper(), path, operation, handler))
            return handler

        return register

    def get(self, path: str, operation: str) -> Callable[[Handler], Handler]:
        return self.add("GET", path, operation)

    def post(self, path: str, operation: str) -> Callable[[Handler], Handler]:
        return self.add("POST", path, operation)

    def put(self, path: str, operation: str) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, operation)

    def patch(self, path: str, operation: str) -> Callable[[Handler], Handler]:
        return self.add("PATCH", path, operation)

    def delete(self, path: str, operation: str) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, operation)
