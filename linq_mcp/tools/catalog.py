"""The tool catalog: the shipped OpenAPI document compiled into typed tool records.

Each API operation becomes one :class:`Operation`: its HTTP shape (method, path,
where each argument goes), its tool definition (name, description, input and output
JSON Schemas, annotations) and the facts the call path needs (effect, where a send's
idempotency key goes, whether a replay is harmless). Compilation is pure and runs
once per process; ``load_catalog()`` caches it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal
from urllib.parse import quote

from linq_mcp.api.errors import ERROR_FIELDS, CatalogError
from linq_mcp.tools.dialect import portable

Effect = Literal["read", "create", "mutate", "visible", "send", "destructive", "secret"]
Location = Literal["path", "query", "body"]
IdempotencyPlace = Literal["message", "poll", "header", "none"]

SPEC_RESOURCE = "linq-v3.openapi.json"
COMPILED_RESOURCE = "catalog.json"  # the compiled catalog, rebuilt by tools/build_catalog.py

# What each effect means for the person at the other end, appended to descriptions.
EFFECT_NOTES: dict[str, str] = {
    "read": "Read-only.",
    "create": "Creates an object in your Linq account; nobody is messaged.",
    "mutate": "Changes account settings; nobody is messaged.",
    "visible": "The other people in the chat see this.",
    "send": "Delivers to real people's phones.",
    "destructive": "Cannot be undone.",
    "secret": "Returns credentials: handle with care.",
}

# Non-read tools where repeating the exact same call has no further effect. This is
# both the idempotentHint and the client's licence to retry after a lost response.
REPEAT_HARMLESS: frozenset[str] = frozenset(
    {
        "update_chat",  # PUT of the same name/icon
        "leave_chat",  # the second call finds the line already gone
        "mark_chat_read",
        "stop_typing",
        "remove_participant",
        "react_to_message",  # add/remove set a state
        "stop_location_sharing",
        "set_chat_background",
        "remove_chat_background",
        "update_sticker_placement",
        "delete_message",
        "delete_attachment",
        "update_phone_number",
        "update_contact_card",
        "update_webhook_subscription",
        "delete_webhook_subscription",
        "block_handle",
        "unblock_handle",
        "cancel_payment_request",
        "cancel_payment",
        "revoke_payment_handle",
    }
)

# The control arguments carry no description: the server's instructions explain them once
# instead of in every sending tool (tools/list is read on every turn).
IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}

# The listed schema is what a model reads on every turn, so a few large definitions are
# shown in a compact form (same fields and names, fewer nested branches). Arguments are
# still validated against the full schema before any request, with field-level errors.
# OpenAI strict mode makes every property required: a nullable one lets the model say "absent".
_OPTIONAL_STRING: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
LISTED_DEFS: dict[str, dict[str, Any]] = {
    "MessageContentParam": {
        "type": "object",
        "description": "Parts: text {value} | media {url or attachment_id} | link {value}; no two text parts "
        "in a row; a link goes alone. effect e.g. screen confetti, bubble slam.",
        "properties": {
            "parts": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["text", "media", "link"]},
                        "value": _OPTIONAL_STRING,
                        "url": _OPTIONAL_STRING,
                        "attachment_id": _OPTIONAL_STRING,
                    },
                    "required": ["type"],
                },
            },
            "effect": {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": ["screen", "bubble"]}, "name": {"type": "string"}},
            },
            "reply_to": {"type": "object", "properties": {"message_id": {"type": "string"}}},
            "preferred_service": {"type": "string", "enum": ["iMessage", "RCS", "SMS"]},
        },
    },
}
LISTED_PROPERTY_TEXT: dict[str, str] = {
    "override_optout": "Send despite their STOP (error 2024)",
    "message": "The content.",
    "cursor": "next_cursor of the previous page.",
    "limit": "Page size.",
    "operation": "add or remove",
    "part_index": "Which part of the message (default 0).",
    "continuation_message": "Text-only fallback, used only if Linq must move the chat to a fresh line.",
    "attachment_id": "from create_attachment",
    "placement": "sticker position",
}
# Texts that fit one tool's argument only (update_app_card's url is the card's link, not a sticker).
LISTED_TOOL_PROPERTY_TEXT: dict[tuple[str, str], str] = {
    ("react_to_message", "emoji"): "sticker: an emoji",
    ("react_to_message", "url"): "sticker: a Linq download_url",
    ("react_to_message", "attachment_id"): "media or sticker: from create_attachment",
}
LISTED_PROPERTIES: dict[tuple[str, str], dict[str, Any]] = {
    ("create_attachment", "content_type"): {
        "type": "string",
        "description": "MIME type of the file, e.g. image/jpeg, image/png, image/heic, video/mp4, audio/m4a, "
        "application/pdf, text/vcard (not FLAC, OGG or executables)",
    },
}

# Arguments whose name, type and format say everything (their descriptions cost tokens on
# every turn and add nothing).
SELF_EXPLANATORY = frozenset(
    {"chat_id", "message_id", "attachment_id", "subscription_id", "payment_id", "reaction_id", "audit_id", "id"}
)

# Safety controls (see linq_mcp/policy): every send can be previewed, and every call that
# may need the person's agreement takes the token that carries it. add_participant is
# "visible", but it brings a new person into a chat, so it can need confirmation too.
CONFIRMABLE = frozenset({"add_participant"})
DRY_RUN_SCHEMA: dict[str, Any] = {"type": "boolean"}
CONFIRM_TOKEN_SCHEMA: dict[str, Any] = {"type": "string"}

_SCHEMA_DROP = frozenset(
    {"example", "examples", "title", "discriminator", "xml", "externalDocs", "readOnly", "writeOnly"}
)


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # the tool argument
    api_name: str  # the name on the wire
    location: Location
    required: bool
    repeated: bool = False  # a query array sent as repeated keys


@dataclass(frozen=True, slots=True)
class ApiCall:
    """A request ready for the client (mirrors ``client.ApiRequest`` without importing httpx)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    json: Any
    headers: dict[str, str]
    replay_safe: bool


@dataclass(frozen=True, slots=True)
class Operation:
    tool: str
    method: str
    path: str
    sdk_name: str
    toolset: str
    effect: Effect
    idempotency: IdempotencyPlace
    pagination: str | None
    params: tuple[Param, ...]
    has_body: bool
    success_status: int
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    annotations: dict[str, bool] = field(default_factory=dict)
    # The listed schema plus the body's conditional rules; what arguments are checked against.
    validation_schema: dict[str, Any] | None = None

    @property
    def sends(self) -> bool:
        """Takes an ``idempotency_key``: everything that delivers to a person or creates money flows."""
        return self.effect == "send" or self.idempotency != "none"

    @property
    def read_only(self) -> bool:
        return self.effect == "read"

    @property
    def repeat_harmless(self) -> bool:
        return self.effect == "read" or self.tool in REPEAT_HARMLESS

    def build_call(self, args: Mapping[str, Any], idempotency_key: str | None = None) -> ApiCall:
        """Map validated tool arguments back onto the HTTP request. Pure."""
        path = self.path
        query: list[tuple[str, str]] = []
        body: dict[str, Any] = {}
        for param in self.params:
            if param.name not in args:
                continue
            value = args[param.name]
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
        keyed = False
        if idempotency_key is not None:
            if self.idempotency in ("message", "poll") and isinstance(body.get(self.idempotency), dict):
                body[self.idempotency]["idempotency_key"] = idempotency_key
                keyed = True
            elif self.idempotency == "header":
                headers["Idempotency-Key"] = idempotency_key
                keyed = True
        return ApiCall(
            method=self.method,
            path=path,
            query=query,
            json=body if (self.has_body or body) else None,
            headers=headers,
            replay_safe=keyed or self.repeat_harmless or self.method in ("GET", "PUT"),
        )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Catalog:
    operations: tuple[Operation, ...]

    @functools.cached_property
    def by_tool(self) -> dict[str, Operation]:
        return {op.tool: op for op in self.operations}

    def __getitem__(self, tool: str) -> Operation:
        return self.by_tool[tool]

    def __contains__(self, tool: object) -> bool:
        return tool in self.by_tool

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    @property
    def toolsets(self) -> list[str]:
        return sorted({op.toolset for op in self.operations})


# ---------------------------------------------------------------------------------------
# loading


def load_spec() -> dict[str, Any]:
    text = resources.files("linq_mcp.spec").joinpath(SPEC_RESOURCE).read_text(encoding="utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


@functools.cache
def load_catalog() -> Catalog:
    """The compiled catalog of the shipped spec (cached per process).

    Start-up reads the precompiled ``catalog.json`` when it was built from this exact
    spec (same SHA-256); otherwise it compiles the spec, which is correct but slower.
    """
    spec_bytes = resources.files("linq_mcp.spec").joinpath(SPEC_RESOURCE).read_bytes()
    digest = hashlib.sha256(spec_bytes).hexdigest()
    try:
        compiled = json.loads(resources.files("linq_mcp.spec").joinpath(COMPILED_RESOURCE).read_bytes())
        if compiled.get("spec_sha256") == digest:
            return catalog_from_json(compiled)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    return compile_catalog(json.loads(spec_bytes))


def catalog_to_json(catalog: Catalog, spec_sha256: str) -> dict[str, Any]:
    return {"spec_sha256": spec_sha256, "operations": [dataclasses.asdict(op) for op in catalog.operations]}


def catalog_from_json(data: Mapping[str, Any]) -> Catalog:
    ops = []
    for raw in data["operations"]:
        fields = dict(raw)
        fields["params"] = tuple(Param(**p) for p in raw["params"])
        ops.append(Operation(**fields))
    return Catalog(tuple(ops))


# ---------------------------------------------------------------------------------------
# compilation

_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def compile_catalog(spec: Mapping[str, Any]) -> Catalog:
    components = spec.get("components", {}).get("schemas", {})
    ops: list[Operation] = []
    seen: set[str] = set()
    for path, item in spec.get("paths", {}).items():
        shared_params = item.get("parameters", [])
        for method in _HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            op = _compile_operation(path, method.upper(), raw, shared_params, spec, components)
            if op.tool in seen:
                raise CatalogError(f"duplicate operationId {op.tool}")
            seen.add(op.tool)
            ops.append(op)
    ops.sort(key=lambda o: (o.toolset, o.tool))
    return Catalog(tuple(ops))


def _compile_operation(
    path: str,
    method: str,
    raw: Mapping[str, Any],
    shared_params: list[Any],
    spec: Mapping[str, Any],
    components: Mapping[str, Any],
) -> Operation:
    tool = raw.get("operationId")
    if not tool:
        raise CatalogError(f"{method} {path} has no operationId")
    effect = raw.get("x-linq-effect")
    if effect not in EFFECT_NOTES:
        raise CatalogError(f"{tool}: x-linq-effect {effect!r} is not one of {sorted(EFFECT_NOTES)}")
    toolset = raw.get("x-linq-toolset")
    if not toolset:
        raise CatalogError(f"{tool}: missing x-linq-toolset")
    idempotency = raw.get("x-linq-idempotency", "none")
    if idempotency not in ("message", "poll", "header", "none"):
        raise CatalogError(f"{tool}: bad x-linq-idempotency {idempotency!r}")

    properties: dict[str, Any] = {}
    required: list[str] = []
    params: list[Param] = []
    refs: set[str] = set()

    for p in [*shared_params, *raw.get("parameters", [])]:
        p = _deref(p, spec)
        location = p.get("in")
        if location not in ("path", "query"):
            continue  # headers (Idempotency-Key) are ours to manage
        name = p["name"]
        schema = _deref(p.get("schema", {}), spec) if "$ref" in p.get("schema", {}) else p.get("schema", {})
        prop = _clean(schema, top=True)
        desc = p.get("description") or schema.get("description")
        if desc and name not in SELF_EXPLANATORY:
            prop["description"] = _short(desc)
        else:
            prop.pop("description", None)
        properties[name] = prop
        _collect_refs(prop, refs)
        is_required = bool(p.get("required")) or location == "path"
        if is_required:
            required.append(name)
        params.append(Param(name, name, location, is_required, repeated=schema.get("type") == "array"))

    has_body = False
    body_rules: list[Any] = []
    body = raw.get("requestBody")
    if body is not None:
        body = _deref(body, spec)
        content = body.get("content", {}).get("application/json")
        if content is not None:
            has_body = True
            body_schema = _resolve_top(content.get("schema", {}), components)
            body_rules = [_clean(rule) for rule in body_schema.get("x-rules", [])]
            body_required = set(body_schema.get("required", []))
            for name, sub in body_schema.get("properties", {}).items():
                arg = name if name not in properties else f"body_{name}"
                prop = _clean(sub, top=True)
                properties[arg] = prop
                _collect_refs(prop, refs)
                is_required = name in body_required
                if is_required:
                    required.append(arg)
                params.append(Param(arg, name, "body", is_required))

    sends = effect == "send" or idempotency != "none"
    if sends:
        properties["idempotency_key"] = dict(IDEMPOTENCY_KEY_SCHEMA)
    if effect == "send":
        properties["dry_run"] = dict(DRY_RUN_SCHEMA)
    if effect == "send" or tool in CONFIRMABLE:
        properties["confirm_token"] = dict(CONFIRM_TOKEN_SCHEMA)

    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    input_schema["additionalProperties"] = False
    for rule in body_rules:
        _collect_refs(rule, refs)
    defs = _gather_defs(refs, components)
    if defs:
        input_schema["$defs"] = defs
    validation_schema = input_schema
    if body_rules:
        renamed = {p.api_name: p.name for p in params if p.location == "body" and p.api_name != p.name}
        validation_schema = {**input_schema, "allOf": [_rename_props(r, renamed) for r in body_rules]}
    input_schema = _listed(tool, input_schema)

    success_status, output_schema = _success_response(raw, spec, components)
    if output_schema is not None and sends:
        output_schema.setdefault("properties", {})["idempotency_key"] = {"type": "string"}
    if output_schema is not None and effect == "send":
        # A dry run answers with a preview instead of the API's body, so nothing is required.
        output_schema.pop("required", None)
        output_schema["properties"]["dry_run"] = {"type": "boolean"}
        output_schema["properties"]["would_send"] = {"type": "object"}

    summary = (raw.get("summary") or tool.replace("_", " ")).strip().rstrip(".")
    description = _describe(raw, effect)
    return Operation(
        tool=tool,
        method=method,
        path=path,
        sdk_name=raw.get("x-linq-sdk-name", ""),
        toolset=toolset,
        effect=effect,
        idempotency=idempotency,
        pagination=raw.get("x-linq-pagination"),
        params=tuple(params),
        has_body=has_body,
        success_status=success_status,
        title=summary,
        description=description,
        input_schema=input_schema,
        output_schema=output_schema,
        annotations=_annotations(tool, effect),
        validation_schema=validation_schema,
    )


def _listed(tool: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema shown to models: compact forms of the largest definitions, unused defs dropped."""
    props = dict(schema["properties"])
    changed = False
    for name in list(props):
        override = LISTED_PROPERTIES.get((tool, name))
        if override is not None:
            props[name] = copy.deepcopy(override)
            changed = True
    defs = dict(schema.get("$defs", {}))
    for name in list(defs):
        if name in LISTED_DEFS:
            defs[name] = copy.deepcopy(LISTED_DEFS[name])
            changed = True
    if "idempotency_key" in props:
        # Its length limits are checked, and said, when a caller's key breaks them; a model rarely writes one.
        props["idempotency_key"] = {"type": "string"}
        changed = True
    for name, prop in props.items():
        said = LISTED_TOOL_PROPERTY_TEXT.get((tool, name), LISTED_PROPERTY_TEXT.get(name))
        if said is not None:
            props[name] = {**prop, "description": said}
            changed = True
    if not changed and "additionalProperties" not in schema and not schema.get("$defs"):
        return portable(schema)
    # Unknown arguments are still refused: validation uses the full schema.
    listed = {k: v for k, v in schema.items() if k != "additionalProperties"}
    listed["properties"] = props
    used: set[str] = set()
    pending: set[str] = set()
    _collect_refs(props, pending)
    while pending:
        name = pending.pop()
        if name in used or name not in defs:
            continue
        used.add(name)
        _collect_refs(defs[name], pending)
    kept = {k: _lean(v) for k, v in defs.items() if k in used}
    listed["properties"], kept = _inline_simple_defs({k: _lean(v) for k, v in props.items()}, kept)
    if kept:
        listed["$defs"] = kept
    else:
        listed.pop("$defs", None)
    return portable(listed)


HANDLE_PATTERN = r"^(\+[1-9]\d{1,14}|[^@\s]+@[^@\s]+\.[^@\s]+)$"


def _lean(node: Any) -> Any:
    """A listed copy of a schema without what only validation needs: nested
    ``additionalProperties: false`` and the long E.164-or-email pattern (said in words)."""
    if isinstance(node, list):
        return [_lean(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _lean(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if out.get("pattern") == HANDLE_PATTERN:
        del out["pattern"]
        said = out.get("description", "")
        if "E.164" not in said:
            out["description"] = f"{said.rstrip('.')} (E.164 or email)".strip() if said else "E.164 or email"
    return out


def _inline_simple_defs(props: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Put small definitions without references of their own in place of their $ref:
    a ``$defs`` entry plus its references costs more tokens than the definition itself."""
    simple = {k: v for k, v in defs.items() if not _has_ref(v) and len(json.dumps(v)) <= 120}
    if not simple:
        return props, defs

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and _ref_name(ref) in simple:
                extra = {k: v for k, v in node.items() if k != "$ref"}
                merged = {**copy.deepcopy(simple[_ref_name(ref)]), **extra}
                own = simple[_ref_name(ref)].get("description")
                if own and "description" in extra and own not in extra["description"]:
                    merged["description"] = f"{extra['description'].rstrip('.')} ({own})"
                return merged
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    rest = {k: swap(v) for k, v in defs.items() if k not in simple}
    return swap(props), rest


def _has_ref(node: Any) -> bool:
    found: set[str] = set()
    _collect_refs(node, found)
    return bool(found)


def _rename_props(rule: Any, renamed: Mapping[str, str]) -> Any:
    """Body rules name body fields; a few are renamed as tool arguments (collisions)."""
    if not renamed:
        return rule
    text = json.dumps(rule)
    for api, arg in renamed.items():
        text = text.replace(f'"{api}"', f'"{arg}"')
    return json.loads(text)


def _annotations(tool: str, effect: str) -> dict[str, bool]:
    return {
        "readOnlyHint": effect == "read",
        "destructiveHint": effect == "destructive",
        "idempotentHint": effect == "read" or tool in REPEAT_HARMLESS,
        "openWorldHint": effect in ("send", "visible"),
    }


# MCP's defaults for absent hints; listing only the hints that differ says the same thing
# in fewer tokens (every tools/list is read by the model on every turn).
ANNOTATION_DEFAULTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


def listed_annotations(annotations: Mapping[str, bool]) -> dict[str, bool]:
    """The hints that differ from MCP's defaults (``destructiveHint`` and ``idempotentHint``
    only matter when a tool is not read-only, so read tools omit them)."""
    read_only = annotations.get("readOnlyHint", False)
    out: dict[str, bool] = {}
    for name, value in annotations.items():
        if read_only and name in ("destructiveHint", "idempotentHint"):
            continue
        if value != ANNOTATION_DEFAULTS[name]:
            out[name] = value
    return out


# Words that already tell what an effect note would: the note is then left out.
_EFFECT_SAID: dict[str, tuple[str, ...]] = {
    "read": ("Changes nothing", "Read-only", "Sends nothing"),
    "destructive": ("undoable", "undone", "Irreversible", "irreversible"),
    "visible": (" see ", " sees ", " see it", " sees it"),
    "send": ("Delivers to",),
    "create": ("nobody is messaged", "sends nothing"),
    "mutate": ("nobody is messaged",),
    "secret": ("credentials",),
}


def _describe(raw: Mapping[str, Any], effect: str) -> str:
    text = raw.get("description") or raw.get("summary") or ""
    # linq-mcp places the idempotency key itself (the idempotency_key argument is for retries).
    text = " ".join(
        sentence
        for sentence in _SENTENCE.split(text)
        if "Idempotency-Key" not in sentence and "message.idempotency_key" not in sentence
    )
    text = _short(text, limit=300, sentences=2)
    if any(word in text for word in _EFFECT_SAID.get(effect, ())):
        return text
    return f"{text} {EFFECT_NOTES[effect]}".strip()


# A sentence ends at . ! or ?, but not after an abbreviation ("in minor units (e.g. cents)").
_SENTENCE = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<=[.!?])\s+")


def _short(text: str, *, limit: int = 200, sentences: int = 1) -> str:
    """The first sentence(s) of a description, without Markdown headings or code."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    flat = " ".join(lines)
    flat = re.sub(r"\*\*|`", "", flat)
    parts = _SENTENCE.split(flat)
    out = " ".join(parts[:sentences]).strip()
    if len(out) > limit:
        out = out[: limit - 1].rsplit(" ", 1)[0] + "…"
    return out


# ---------------------------------------------------------------------------------------
# schema helpers


def _deref(node: Any, spec: Mapping[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise CatalogError(f"external $ref not supported: {ref}")
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _resolve_top(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """The body schema with top-level $ref / allOf merged, so its properties can be flattened.

    Conditional rules (``if``/``then``, ``oneOf``, ``not``) found at the top level are
    returned under ``x-rules``: they are enforced by local validation but kept out of the
    listed schema, which many clients reject when it has top-level combinators.
    """
    node: Any = schema
    while "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[-1]]
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    merged["properties"] = dict(node.get("properties", {}))
    merged["required"] = list(node.get("required", []))
    rules: list[Any] = []
    for sub in node.get("allOf", []):
        if "$ref" in sub or "properties" in sub and not ({"if", "oneOf", "anyOf", "not"} & set(sub)):
            part = _resolve_top(sub, components)
            merged["properties"].update(part.get("properties", {}))
            merged["required"].extend(r for r in part.get("required", []) if r not in merged["required"])
            rules.extend(part.get("x-rules", []))
        else:
            rules.append(sub)
    for key in ("oneOf", "anyOf", "not", "if"):
        if key in merged:
            rule: dict[str, Any] = {key: merged.pop(key)}
            if key == "if":
                for branch in ("then", "else"):
                    if branch in merged:
                        rule[branch] = merged.pop(branch)
            rules.append(rule)
    if rules:
        merged["x-rules"] = rules
    return merged


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _clean(schema: Any, *, top: bool = False) -> Any:
    """Copy a schema for a tool: local refs, no OpenAPI-only keywords, short descriptions."""
    if isinstance(schema, list):
        return [_clean(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_DROP or key.startswith("x-"):
            continue
        if key == "$ref":
            out["$ref"] = "#/$defs/" + _ref_name(value)
        elif key == "description":
            if top:
                out["description"] = _short(value)
        elif key == "nullable":
            continue  # handled below
        elif key in ("properties", "patternProperties", "$defs", "definitions"):
            out[key] = {k: _clean(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "contains", "propertyNames"):
            out[key] = _clean(value)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            out[key] = [_clean(v) for v in value]
        else:
            out[key] = copy.deepcopy(value)
    if schema.get("nullable") is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _collect_refs(schema: Any, acc: set[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            acc.add(_ref_name(ref))
        for value in schema.values():
            _collect_refs(value, acc)
    elif isinstance(schema, list):
        for value in schema:
            _collect_refs(value, acc)


def _gather_defs(roots: set[str], components: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        if name not in components:
            raise CatalogError(f"$ref to unknown schema {name}")
        cleaned = _clean(components[name])
        defs[name] = cleaned
        more: set[str] = set()
        _collect_refs(cleaned, more)
        pending.extend(sorted(more - defs.keys()))
    return dict(sorted(defs.items()))


def _success_response(
    raw: Mapping[str, Any], spec: Mapping[str, Any], components: Mapping[str, Any]
) -> tuple[int, dict[str, Any] | None]:
    responses = raw.get("responses", {})
    codes = sorted(int(c) for c in responses if str(c).isdigit() and 200 <= int(c) < 300)
    if not codes:
        return 200, None
    status = codes[0]
    response = _deref(responses[str(status)], spec)
    content = (response.get("content") or {}).get("application/json")
    if not content or not content.get("schema"):
        return status, None
    schema = _resolve_top(content["schema"], components)
    if schema.get("type") not in (None, "object") or not schema.get("properties"):
        return status, None
    return status, _tolerant_output(schema, components)


def _tolerant_output(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow output schema: the container types of the fields every answer has.

    Nothing a new API field or enum value could break (clients reject results that do
    not match), and small: optional fields are left to ``additionalProperties``. It
    requires nothing and never types an error field (``message``, ``error`` …): the
    TypeScript SDK 1.x checks ``structuredContent`` against it even on ``isError``
    results, so an error result must conform too.
    """
    all_props = schema.get("properties", {})
    required = [r for r in schema.get("required", []) if r in all_props and r not in ERROR_FIELDS]
    typed = {name: _container_type(_json_type(all_props[name], components)) for name in required}
    props = {name: schema for name, schema in typed.items() if schema}
    out: dict[str, Any] = {"type": "object"}
    if props:
        out["properties"] = props
    return out


def _container_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Keep the shape (object / array) of a field; a scalar's name says enough."""
    return schema if schema.get("type") in ("object", "array") else {}


def _json_type(schema: Any, components: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    node = schema
    while isinstance(node, dict) and "$ref" in node:
        node = components[_ref_name(node["$ref"])]
    if not isinstance(node, dict):
        return {}
    for combo in ("anyOf", "oneOf"):
        if combo in node:
            types = {json.dumps(_json_type(s, components, depth), sort_keys=True) for s in node[combo]}
            if len(types) == 1:
                return dict(json.loads(types.pop()))
            return {}
    if "allOf" in node:
        return {"type": "object"}
    typ = node.get("type")
    if not isinstance(typ, str) or node.get("nullable") is True:
        return {}  # nullable or mixed: accept anything rather than reject a real answer
    out: dict[str, Any] = {"type": typ}
    return out
