"""A tiny declarative router: each route module lists its operations as handlers.

A handler is ``async (ctx: Ctx) -> Reply``. It raises :class:`LinqError` for any
failure; the app turns that into Linq's envelope. Handlers never see Starlette.
"""

from __future__ import annotations

import json
import re
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


class PathTemplate:
    """``/v3/chats/{chat_id}`` matched segment by segment.

    Most of the ~90 templates need no regex at all (cheaper start-up); a segment that mixes
    a parameter with text (``{line_id}.vcf``) gets a small one of its own.
    """

    __slots__ = ("segments",)

    def __init__(self, path: str) -> None:
        segments: list[tuple[str, str | re.Pattern[str] | None]] = []
        for part in path.split("/"):
            if part.startswith("{") and part.endswith("}") and part.count("{") == 1:
                segments.append((part[1:-1], None))  # a whole-segment parameter
            elif "{" in part:
                segments.append(("", re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+?)", part) + "$")))
            else:
                segments.append((part, part))
        self.segments = tuple(segments)

    def match(self, path: str) -> dict[str, str] | None:
        parts = path.split("/")
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for part, (name, literal) in zip(parts, self.segments, strict=True):
            if literal is None:
                if not part:
                    return None
                params[name] = part
            elif isinstance(literal, str):
                if part != literal:
                    return None
            else:
                m = literal.match(part)
                if m is None:
                    return None
                params.update(m.groupdict())
        return params


@dataclass(frozen=True)
class CompiledRoute:
    """A route with its path matcher; ``public`` routes need no bearer token (presigned URLs)."""

    pattern: PathTemplate
    route: RouteDef
    public: bool = False

    @classmethod
    def of(cls, route: RouteDef) -> CompiledRoute:
        return cls(PathTemplate(route.path), route, public=route.operation.startswith("_public"))
