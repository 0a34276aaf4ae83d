#!/usr/bin/env python3
"""Build ``linq_mcp/spec/linq-v3.openapi.json``, the one API description linq-mcp is compiled from.

Inputs (all read-only):

* ``../shared/linq-api/operations.tsv`` – the 70 operations and their tool names;
* ``../shared/linq-api/openapi-v3.2026-03.yaml`` – servers, security and the ``webhooks``
  section (payload schemas and examples, which no SDK models);
* ``linq-python`` 0.65.0 – request TypedDicts and response models, the newest API surface;
* ``tools/spec_data/operations.yaml`` – hand-written summaries, descriptions, status codes;
* ``tools/spec_data/schema_patches.yaml`` – constraints the SDK types cannot express
  (E.164 patterns, length limits, "exactly one of" rules).

Run ``python tools/sync_spec.py`` to rewrite the JSON (and the shipped operations.tsv copy);
``--check`` exits 1 when the committed files differ from what would be generated.
"""

from __future__ import annotations

import argparse
import ast
import collections.abc
import copy
import csv
import datetime as dt
import functools
import inspect
import json
import re
import sys
import textwrap
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import typing_extensions
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "linq-api"
SPEC_DIR = ROOT / "linq_mcp" / "spec"
SPEC_PATH = SPEC_DIR / "linq-v3.openapi.json"
TSV_COPY = SPEC_DIR / "operations.tsv"
DATA_DIR = Path(__file__).resolve().parent / "spec_data"
SNAPSHOT_NAME = "openapi-v3.2026-03.yaml"
SDK_VERSION = "0.65.0"
SERVER = "https://api.linqapp.com/api/partner"

REF = "#/components/schemas/"
HTTP_VERBS = {"_get": "GET", "_post": "POST", "_put": "PUT", "_patch": "PATCH", "_delete": "DELETE"}


# --------------------------------------------------------------------------- docstrings

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\[(\"'])")


def clean_text(text: str | None) -> str:
    """Collapse a docstring into one line without markdown emphasis."""
    if not text:
        return ""
    text = re.sub(r"\s+", " ", textwrap.dedent(text)).strip()
    return text.replace("**", "")


def short_description(text: str | None, max_chars: int = 220) -> str:
    """One or two sentences: enough for a tool schema, not a manual."""
    text = clean_text(text)
    if not text:
        return ""
    sentences = _SENTENCE_END.split(text)
    out = sentences[0]
    if len(sentences) > 1 and len(out) + 1 + len(sentences[1]) <= max_chars and len(out) < 90:
        out = f"{out} {sentences[1]}"
    if len(out) > max_chars:
        cut = out[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:")
        out = f"{cut}…"
    return out


def field_docstrings(cls: type) -> dict[str, str]:
    """Stainless documents fields with a string literal right after each annotation."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] != "linq":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        tree = ast.parse(source)
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, [*body[1:], None], strict=True):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = nxt.value.value
    return docs


# --------------------------------------------------------------------------- type → schema


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing_extensions.is_typeddict(tp)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _property_info(metadata: tuple[Any, ...]) -> tuple[str | None, str | None]:
    alias = fmt = None
    for meta in metadata:
        if type(meta).__name__ == "PropertyInfo":
            alias = getattr(meta, "alias", None) or alias
            fmt = getattr(meta, "format", None) or fmt
    return alias, fmt


def _module_camel(cls: type) -> str:
    stem = cls.__module__.rsplit(".", 1)[-1]
    return "".join(p[:1].upper() + p[1:] for p in stem.split("_") if p)


@functools.cache
def _canonical_names() -> frozenset[str]:
    """Lower-cased names of the SDK's top-level types (one per ``linq/types`` module)."""
    import linq.types

    root = Path(linq.types.__file__).parent
    return frozenset(p.stem.replace("_", "").lower() for p in root.rglob("*.py") if not p.stem.startswith("_"))


class SchemaBuilder:
    """Turns SDK TypedDicts (requests) and pydantic models (responses) into clean JSON Schema.

    Request objects are closed (``additionalProperties: false``) because the API rejects what
    it does not know; response objects stay open so newer server fields never break parsing.
    """

    def __init__(self, reserved: set[str]) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self.reserved = set(reserved)
        self._names: dict[tuple[type, bool], str] = {}

    # naming ---------------------------------------------------------------
    def _name_for(self, cls: type, request: bool, preferred: str | None = None) -> str:
        key = (cls, request)
        if key in self._names:
            return self._names[key]
        base = preferred or cls.__name__
        if not preferred:
            stem = _module_camel(cls)
            # a nested helper class (chat_create_response.Chat) must not take the name of the
            # SDK's own top-level type (chat.Chat): prefix it with its module's name
            if stem.lower() != cls.__name__.lower() and cls.__name__.lower() in _canonical_names():
                base = re.sub(r"(Params?|Response)$", "", stem) + cls.__name__
            if request:
                base = re.sub(r"Params?$", "", base) + "Param"
        name = base
        if name in self.schemas or name in self.reserved:
            prefix = re.sub(r"Params?$", "", _module_camel(cls))
            name = prefix + base if not base.startswith(prefix) else base
            i = 2
            while name in self.schemas or name in self.reserved:
                name = f"{prefix}{base}{i}"
                i += 1
        self._names[key] = name
        return name

    # entry points -----------------------------------------------------------
    def ref(self, cls: type, request: bool, preferred: str | None = None) -> dict[str, Any]:
        key = (cls, request)
        if key not in self._names:
            name = self._name_for(cls, request, preferred)
            self.schemas[name] = {}  # placeholder against recursion
            self.schemas[name] = self._object(cls, request)
        return {"$ref": REF + self._names[key]}

    def schema(self, tp: Any, request: bool) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            _, fmt = _property_info(tp.__metadata__)
            inner_tp = args[0]
            if fmt == "iso8601" and typing.get_origin(inner_tp) in (typing.Union, types.UnionType):
                # Union[str, datetime] sent as ISO 8601 is one thing on the wire
                inner_tp = typing.Union[tuple(a for a in typing.get_args(inner_tp) if a is not str)]  # noqa: UP007
            inner = self.schema(inner_tp, request)
            if fmt == "iso8601" and inner.get("type") == "string":
                inner["format"] = "date-time"
            return inner
        if origin in (typing_extensions.Required, typing_extensions.NotRequired):
            return self.schema(args[0], request)
        if tp is type(None):
            return {"type": "null"}
        if tp is typing.Any or tp is object:
            return {}
        if origin is typing.Literal or origin is typing_extensions.Literal:
            return self._literal(list(args))
        if origin in (typing.Union, types.UnionType):
            return self._union(list(args), request)
        if origin in (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Iterable) or (
            origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr"
        ):
            items = self.schema(args[0], request) if args else {}
            return {"type": "array", "items": items}
        if origin in (dict, collections.abc.Mapping):
            value = self.schema(args[1], request) if len(args) == 2 else {}
            out: dict[str, Any] = {"type": "object"}
            if value:
                out["additionalProperties"] = value
            return out
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is dt.datetime:
            return {"type": "string", "format": "date-time"}
        if tp is dt.date:
            return {"type": "string", "format": "date"}
        if tp in (list, list):
            return {"type": "array"}
        if tp in (dict, dict):
            return {"type": "object"}
        if _is_typeddict(tp) or _is_model(tp):
            return self.ref(tp, request)
        raise TypeError(f"unsupported type in SDK schema: {tp!r}")

    # helpers ----------------------------------------------------------------
    @staticmethod
    def _literal(values: list[Any]) -> dict[str, Any]:
        kinds = {type(v) for v in values}
        out: dict[str, Any] = {}
        if kinds == {str}:
            out["type"] = "string"
        elif kinds <= {int}:
            out["type"] = "integer"
        elif kinds == {bool}:
            out["type"] = "boolean"
        if len(values) == 1:
            out["const"] = values[0]
        else:
            out["enum"] = values
        return out

    def _union(self, members: list[Any], request: bool) -> dict[str, Any]:
        nullable = type(None) in members
        rest = [m for m in members if m is not type(None)]
        literal_values: list[Any] = []
        if rest and all(typing.get_origin(m) in (typing.Literal, typing_extensions.Literal) for m in rest):
            for m in rest:
                literal_values.extend(typing.get_args(m))
            branches = [self._literal(literal_values)]
        else:
            branches = []
            for m in rest:
                s = self.schema(m, request)
                if "anyOf" in s and len(s) == 1:
                    branches.extend(s["anyOf"])
                elif s not in branches:
                    branches.append(s)
        if nullable:
            branches.append({"type": "null"})
        return branches[0] if len(branches) == 1 else {"anyOf": branches}

    def _object(self, cls: type, request: bool) -> dict[str, Any]:
        docs = field_docstrings(cls)
        props: dict[str, Any] = {}
        required: list[str] = []
        if _is_typeddict(cls):
            hints = typing.get_type_hints(cls, include_extras=True)
            total = getattr(cls, "__total__", True)
            for attr, hint in hints.items():
                is_required = _required_flag(hint, total)
                alias = _alias_of(hint) or attr
                prop = self.schema(hint, request)
                self._describe(prop, docs.get(attr))
                props[alias] = prop
                if is_required:
                    required.append(alias)
        else:
            assert issubclass(cls, pydantic.BaseModel)
            for attr, info in cls.model_fields.items():
                alias = info.alias or attr
                prop = self.schema(info.annotation, request)
                if info.metadata:
                    _, fmt = _property_info(tuple(info.metadata))
                    if fmt == "iso8601" and prop.get("type") == "string":
                        prop["format"] = "date-time"
                self._describe(prop, docs.get(attr))
                props[alias] = prop
                if info.is_required():
                    required.append(alias)
        out: dict[str, Any] = {"type": "object"}
        doc = cls.__dict__.get("__doc__")
        if doc and not doc.startswith(cls.__name__ + "("):
            out["description"] = short_description(doc)
        out["properties"] = props
        if required:
            out["required"] = required
        if request:
            out["additionalProperties"] = False
        return out

    @staticmethod
    def _describe(prop: dict[str, Any], doc: str | None) -> None:
        if not doc:
            return
        if clean_text(doc).upper().startswith("DEPRECATED"):
            prop["deprecated"] = True
        prop["description"] = short_description(doc)  # 2020-12 allows siblings of $ref


def _required_flag(hint: Any, default: bool) -> bool:
    """Required[...] / NotRequired[...] win over the TypedDict's ``total``."""
    while True:
        origin = typing.get_origin(hint)
        if origin is typing_extensions.Required:
            return True
        if origin is typing_extensions.NotRequired:
            return False
        if origin is typing.Annotated:
            hint = typing.get_args(hint)[0]
            continue
        return default


def _alias_of(hint: Any) -> str | None:
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            alias, _ = _property_info(hint.__metadata__)
            if alias:
                return alias
            hint = typing.get_args(hint)[0]
        elif origin in (typing_extensions.Required, typing_extensions.NotRequired):
            hint = typing.get_args(hint)[0]
        else:
            return None


# --------------------------------------------------------------------------- SDK introspection


@dataclass
class SdkCall:
    """What one SDK method sends and what it reads back."""

    method: str
    path: str
    body: type | None = None
    query: type | None = None
    query_keys: list[str] | None = None
    response: Any = None
    page_items: tuple[str, type] | None = None
    headers: list[str] = field(default_factory=list)
    doc: str = ""
    param_docs: dict[str, str] = field(default_factory=dict)


def _sdk_client() -> Any:
    import linq

    if getattr(linq, "__version__", SDK_VERSION) != SDK_VERSION:
        raise SystemExit(f"linq-python {SDK_VERSION} is required (found {linq.__version__})")
    return linq.LinqAPIV3(api_key="unused", base_url="http://spec.invalid")


def _resolve(client: Any, sdk_name: str) -> Any:
    obj = client
    for part in sdk_name.split("."):
        if hasattr(obj, part):
            obj = getattr(obj, part)
        else:  # the TSV writes check_rcs, the SDK check_RCS
            obj = next(getattr(obj, n) for n in dir(obj) if n.lower() == part.lower())
    return obj.__func__


def _arg_docs(doc: str) -> dict[str, str]:
    """Parse the ``Args:`` block of a Stainless method docstring."""
    out: dict[str, str] = {}
    if "Args:" not in doc:
        return out
    block = textwrap.dedent(doc.split("Args:", 1)[1])
    current: str | None = None
    for line in block.splitlines():
        m = re.match(r"^\s{0,2}(\w+): (.*)$", line)
        if m and not line.startswith("    "):
            current = m.group(1)
            out[current] = m.group(2)
        elif current and line.strip():
            out[current] += " " + line.strip()
    return out


def sdk_call(client: Any, sdk_name: str) -> SdkCall:
    fn = _resolve(client, sdk_name)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    env = vars(sys.modules[fn.__module__])
    call: SdkCall | None = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr
            in (
                *HTTP_VERBS,
                "_get_api_list",
            )
        ):
            first = node.args[0]
            path = first.value if isinstance(first, ast.Constant) else first.args[0].value  # type: ignore[attr-defined]
            call = SdkCall(method=HTTP_VERBS.get(node.func.attr, "GET"), path=str(path))
            for kw in node.keywords:
                if kw.arg == "body" and isinstance(kw.value, ast.Call):
                    call.body = eval(ast.unparse(kw.value.args[1]), env)  # noqa: S307 - SDK source
                elif kw.arg == "cast_to":
                    call.response = eval(ast.unparse(kw.value), env)  # noqa: S307
                elif kw.arg == "page":
                    sub = kw.value
                    assert isinstance(sub, ast.Subscript), sdk_name
                    page_cls = eval(ast.unparse(sub.value), env)  # noqa: S307
                    item = eval(ast.unparse(sub.slice), env)  # noqa: S307
                    key = next(n for n in page_cls.model_fields if n != "next_cursor")
                    call.page_items = (key, item)
            break
    assert call is not None, sdk_name
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "query" and isinstance(node.value, ast.Call):
            call.query = eval(ast.unparse(node.value.args[1]), env)  # noqa: S307
            if isinstance(node.value.args[0], ast.Dict):
                call.query_keys = [str(k.value) for k in node.value.args[0].keys if isinstance(k, ast.Constant)]
        if isinstance(node, ast.Dict):
            for k in node.keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value == "Idempotency-Key":
                    call.headers.append(k.value)
    call.doc = inspect.getdoc(fn) or ""
    call.param_docs = _arg_docs(call.doc)
    return call


# --------------------------------------------------------------------------- assembly


def _camel(tool: str) -> str:
    return "".join(p.capitalize() for p in tool.split("_"))


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``base``: dicts recurse, ``null`` deletes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict) and not value.get("$replace"):
            deep_merge(base[key], value)
        else:
            if isinstance(value, dict):
                old = base.get(key)
                value = {k: v for k, v in value.items() if k != "$replace"}
                if isinstance(old, dict) and "description" in old and "description" not in value:
                    value["description"] = old["description"]  # a replaced type keeps its docs
            base[key] = copy.deepcopy(value)
    return base


def load_tsv(shared: Path) -> list[dict[str, str]]:
    with (shared / "operations.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _webhook_components(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot components the ``webhooks`` section needs, transitively."""
    comps = snapshot["components"]["schemas"]
    keep: dict[str, Any] = {}
    todo = set(re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", json.dumps(snapshot["webhooks"])))
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = comps[name]
        todo |= set(re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", json.dumps(comps[name]))) - set(keep)
    return {k: keep[k] for k in sorted(keep)}


def _webhook_section(snapshot: dict[str, Any], taken: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The snapshot's ``webhooks`` with the components they use.

    The SDK-derived schemas keep the plain names (``Chat``, ``ChatHandle``…); a snapshot
    component whose name is already taken is kept as ``Oas<Name>`` and its refs rewritten.
    """
    keep = _webhook_components(snapshot)
    rename = {name: f"Oas{name}" for name in keep if name in taken}

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str) and v.startswith(REF) and v.removeprefix(REF) in rename:
                    v = REF + rename[v.removeprefix(REF)]
                out[k] = fix(v)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    schemas = {rename.get(name, name): fix(schema) for name, schema in keep.items()}
    return fix(snapshot["webhooks"]), schemas


def build(shared: Path) -> dict[str, Any]:
    rows = load_tsv(shared)
    snapshot = yaml.safe_load((shared / SNAPSHOT_NAME).read_text())
    ops_meta: dict[str, Any] = yaml.safe_load((DATA_DIR / "operations.yaml").read_text())
    patches: dict[str, Any] = yaml.safe_load((DATA_DIR / "schema_patches.yaml").read_text())

    builder = SchemaBuilder(reserved=set(patches.get("add", {})))
    client = _sdk_client()
    common = ops_meta["common_parameters"]
    defaults = ops_meta["defaults"]

    paths: dict[str, dict[str, Any]] = {}
    for row in rows:
        tool = row["tool"]
        meta = ops_meta["operations"][tool]
        call = sdk_call(client, row["sdk_name"])
        if call.method != row["method"]:
            raise SystemExit(f"{tool}: TSV says {row['method']}, SDK sends {call.method}")

        # parameters --------------------------------------------------------
        params: list[dict[str, Any]] = []
        tsv_path_params = re.findall(r"{(\w+)}", row["path"])
        sdk_path_params = re.findall(r"{(\w+)}", call.path)
        if len(tsv_path_params) != len(sdk_path_params):
            raise SystemExit(f"{tool}: path {row['path']} vs SDK {call.path}")
        for name, sdk_name in zip(tsv_path_params, sdk_path_params, strict=True):
            spec = copy.deepcopy(common.get(name) or common.get(sdk_name) or {})
            desc = spec.pop("description", None) or short_description(call.param_docs.get(sdk_name))
            params.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": desc,
                    "schema": spec or {"type": "string"},
                }
            )
        if call.query is not None:
            qschema = builder.schema(call.query, request=True)
            qcomp = builder.schemas.pop(qschema["$ref"].removeprefix(REF))
            builder._names = {k: v for k, v in builder._names.items() if v != qschema["$ref"].removeprefix(REF)}
            keys = list(qcomp["properties"])
            if call.query is call.body and call.query_keys:  # one TypedDict split over query and body
                hints = typing.get_type_hints(call.query, include_extras=True)
                keys = [_alias_of(hints[k]) or k for k in call.query_keys]
            for key in keys:
                prop = qcomp["properties"][key]
                desc = prop.pop("description", "")
                p: dict[str, Any] = {
                    "name": key,
                    "in": "query",
                    "required": key in qcomp.get("required", []),
                    "description": desc,
                    "schema": prop,
                }
                if prop.get("type") == "array":
                    p["style"], p["explode"] = "form", True
                params.append(p)
        if "Idempotency-Key" in call.headers or meta.get("idempotency") == "header":
            params.append(copy.deepcopy(common["Idempotency-Key"]))

        for p in params:
            patch = meta.get("params", {}).get(p["name"])
            if patch:
                deep_merge(p, patch)
        unknown = set(meta.get("params", {})) - {p["name"] for p in params}
        if unknown:
            raise SystemExit(f"{tool}: parameter patches for unknown parameters {sorted(unknown)}")

        op: dict[str, Any] = {
            "operationId": tool,
            "summary": meta["summary"],
            "description": clean_text(meta["description"]),
        }
        if meta.get("deprecated"):
            op["deprecated"] = True
        if params:
            op["parameters"] = params

        # request body --------------------------------------------------------
        if call.body is not None:
            ref = builder.ref(call.body, request=True, preferred=f"{_camel(tool)}Request")
            body_schema = builder.schemas[ref["$ref"].removeprefix(REF)]
            drop = {p["name"] for p in params if p["in"] == "query"} if call.query is call.body else set()
            drop |= {p["name"] for p in params if p["in"] == "header"}
            hints = typing.get_type_hints(call.body, include_extras=True)
            drop |= {_alias_of(hints[n]) or n for n in sdk_path_params if n in hints}
            for key in drop:
                body_schema["properties"].pop(key, None)
                if key in body_schema.get("required", []):
                    body_schema["required"].remove(key)
            if not body_schema.get("required"):
                body_schema.pop("required", None)
            body_schema.pop("description", None)
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref}},
            }

        # responses -----------------------------------------------------------
        status = str(meta.get("status", 200))
        ok: dict[str, Any] = {"description": meta.get("response_description", "Success.")}
        if call.page_items is not None:
            key, item = call.page_items
            name = f"{_camel(tool)}Response"
            builder.schemas[name] = {
                "type": "object",
                "description": "One page of results; pass next_cursor back as cursor for the next page.",
                "properties": {
                    key: {"type": "array", "items": builder.schema(item, request=False)},
                    "next_cursor": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "description": "Cursor for the next page; null when there are no more.",
                    },
                },
                "required": [key],
            }
            ok["content"] = {"application/json": {"schema": {"$ref": REF + name}}}
        elif call.response is not None and call.response is not type(None):
            schema = builder.schema(call.response, request=False)
            ok["content"] = {media: {"schema": schema} for media in meta.get("media_types", ["application/json"])}
        responses: dict[str, Any] = {status: ok, "default": {"$ref": "#/components/responses/Error"}}
        op["responses"] = responses

        # extensions ------------------------------------------------------------
        op["x-linq-toolset"] = row["toolset"]
        op["x-linq-effect"] = row["effect"]
        op["x-linq-sdk-name"] = row["sdk_name"]
        op["x-linq-idempotency"] = meta.get("idempotency", "none")
        if meta.get("pagination"):
            op["x-linq-pagination"] = meta["pagination"]
        paths.setdefault(row["path"], {})[row["method"].lower()] = op

    schemas = builder.schemas
    deep_merge(schemas, patches.get("add", {}))
    for name, patch in patches.get("patch", {}).items():
        if name not in schemas:
            raise SystemExit(f"schema patch for unknown component {name}")
        deep_merge(schemas[name], patch)
    webhooks, webhook_schemas = _webhook_section(snapshot, taken=set(schemas))
    schemas.update(webhook_schemas)

    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Linq Partner API (linq-mcp build)",
            "version": f"3-sdk{SDK_VERSION}",
            "description": clean_text(defaults["info_description"]),
        },
        "servers": [{"url": SERVER, "description": "Production"}],
        "security": [{"BearerAuth": []}],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "securitySchemes": snapshot["components"]["securitySchemes"],
            "responses": {
                "Error": {
                    "description": "Linq error envelope.",
                    "content": {"application/json": {"schema": {"$ref": REF + "ErrorResponse"}}},
                }
            },
            "schemas": {k: schemas[k] for k in sorted(schemas)},
        },
    }
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared linq-api directory")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    args = parser.parse_args(argv)
    shared: Path = args.shared
    text = render(build(shared))
    tsv = (shared / "operations.tsv").read_text()
    if args.check:
        stale = [
            str(p.relative_to(ROOT))
            for p, want in ((SPEC_PATH, text), (TSV_COPY, tsv))
            if not p.exists() or p.read_text() != want
        ]
        if stale:
            print("stale: " + ", ".join(stale) + " (run tools/sync_spec.py)", file=sys.stderr)
            return 1
        print("spec is up to date")
        return 0
    SPEC_DIR.mkdir(parents=True, exist_ok=True)
    SPEC_PATH.write_text(text)
    TSV_COPY.write_text(tsv)
    print(f"wrote {SPEC_PATH.relative_to(ROOT)} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
