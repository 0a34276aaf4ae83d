"""What an assistant sees in tools/list: names, toolsets, read-only mode, schemas, annotations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from e2e_helpers import connected
from jsonschema import Draft202012Validator
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.server.app import assembled
from linq_mcp.server.handlers import build_server
from linq_mcp.tools.catalog import load_catalog

TSV = Path(__file__).resolve().parents[2] / "linq_mcp" / "spec" / "operations.tsv"


def table() -> list[dict[str, str]]:
    with open(TSV, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


async def listed(sandbox: Sandbox, **overrides: object) -> list[str]:
    settings = Settings(sandbox=True, **overrides)  # type: ignore[arg-type]
    async with assembled(settings, sandbox=sandbox) as rt, Client(build_server(rt)) as c:
        return [t.name for t in (await c.list_tools()).tools]


async def test_all_toolsets_list_every_operation_of_the_tool_table(sandbox: Sandbox) -> None:
    names = await listed(sandbox, toolsets=("all", "payments", "deprecated"), allow_payment_credentials=True)
    api = {row["tool"] for row in table()}
    assert len(api) == 70
    assert api <= set(names)


async def test_default_toolsets_stay_within_thirty_tools(sandbox: Sandbox) -> None:
    names = await listed(sandbox)
    assert 0 < len(names) <= 30
    toolsets = {row["tool"]: row["toolset"] for row in table()}
    assert {toolsets[n] for n in names if n in toolsets} <= {"messaging", "groups", "media"}


async def test_read_only_lists_only_read_tools(sandbox: Sandbox) -> None:
    names = await listed(sandbox, toolsets=("all",), read_only=True)
    effects = {row["tool"]: row["effect"] for row in table()}
    assert names and all(effects.get(n, "read") == "read" for n in names)
    assert "send_message" not in names


async def test_payments_and_deprecated_are_off_unless_named(sandbox: Sandbox) -> None:
    names = await listed(sandbox, toolsets=("messaging", "groups", "media", "rich", "lines"))
    assert not any(n.endswith("_payment") or "payment" in n for n in names)
    assert "list_phone_numbers_legacy" not in names


async def test_all_leaves_out_payments_and_deprecated(sandbox: Sandbox) -> None:
    names = set(await listed(sandbox, toolsets=("all",), allow_payment_credentials=True))
    toolsets = {row["tool"]: row["toolset"] for row in table()}
    broad = {"messaging", "groups", "media", "rich", "lines", "webhooks", "blocklist"}
    assert {toolsets[n] for n in names if n in toolsets} == broad


async def test_payments_and_deprecated_come_only_by_their_own_names(sandbox: Sandbox) -> None:
    names = set(await listed(sandbox, toolsets=("all", "payments", "deprecated")))
    assert {"create_payment", "create_payment_request", "list_phone_numbers_legacy"} <= names


async def test_payment_credentials_need_their_own_flag(sandbox: Sandbox) -> None:
    assert "get_payment_credentials" not in await listed(sandbox, toolsets=("payments",))
    assert "get_payment_credentials" in await listed(sandbox, toolsets=("payments",), allow_payment_credentials=True)


async def test_single_toolset_and_explicit_tools_and_exclusions(sandbox: Sandbox) -> None:
    names = await listed(sandbox, toolsets=("groups",), tools=("get_chat",), exclude_tools=("leave_chat",))
    assert set(names) == {"add_participant", "remove_participant", "update_chat", "get_chat"}


async def test_hidden_tools_cannot_be_called(sandbox: Sandbox) -> None:
    from mcp import MCPError

    async with (
        assembled(Settings(sandbox=True, read_only=True), sandbox=sandbox) as rt,
        Client(build_server(rt)) as c,
    ):
        with pytest.raises(MCPError):
            await c.call_tool("send_message", {"chat_id": "x", "message": {"parts": []}})


async def test_every_schema_is_valid_json_schema_with_an_object_root(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, era=era) as (client, _):
        tools = (await client.list_tools()).tools
    for tool in tools:
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        if tool.output_schema is not None:
            Draft202012Validator.check_schema(tool.output_schema)
            assert tool.output_schema["type"] == "object"


async def test_every_tool_describes_what_it_changes(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.description and len(tool.description) > 20, tool.name


async def test_annotations_follow_the_effect_column(sandbox: Sandbox, era: str) -> None:
    effects = {row["tool"]: row["effect"] for row in table()}
    async with connected(sandbox, era=era) as (client, _):
        tools = (await client.list_tools()).tools
    for tool in tools:
        effect = effects.get(tool.name)
        if effect is None:
            continue
        ann = tool.annotations
        assert ann is not None
        # Absent hints mean MCP's defaults: readOnly false, destructive true, idempotent false, openWorld true.
        read_only = bool(ann.read_only_hint)
        destructive = True if ann.destructive_hint is None else ann.destructive_hint
        open_world = True if ann.open_world_hint is None else ann.open_world_hint
        idempotent = bool(ann.idempotent_hint)
        assert read_only is (effect == "read"), tool.name
        if not read_only:
            assert destructive is (effect == "destructive"), tool.name
        assert open_world is (effect in ("send", "visible")), tool.name
        if effect == "send":
            assert idempotent is False, tool.name


async def test_sending_tools_take_an_idempotency_key(sandbox: Sandbox) -> None:
    effects = {row["tool"]: row["effect"] for row in table()}
    async with connected(sandbox) as (client, _):
        tools = (await client.list_tools()).tools
    for tool in tools:
        if effects.get(tool.name) == "send":
            assert "idempotency_key" in tool.input_schema["properties"], tool.name


def test_catalog_arguments_use_api_names() -> None:
    send = load_catalog()["send_message"]
    assert {"chat_id", "message", "idempotency_key"} <= set(send.input_schema["properties"])
    create = load_catalog()["create_chat"]
    assert {"from", "to", "message"} <= set(create.input_schema["required"])


async def test_default_tool_list_stays_within_its_token_budget(sandbox: Sandbox) -> None:
    """tools/list is read by the model on every turn: keep the default set lean (o200k tokens)."""
    import json

    import bpe_openai

    async with connected(sandbox, Settings(sandbox=True)) as (client, _):
        tools = (await client.list_tools()).tools
    payload = json.dumps(
        {"tools": [t.model_dump(by_alias=True, exclude_none=True) for t in tools]}, separators=(",", ":")
    )
    assert len(bpe_openai.get_encoding("o200k_base").encode(payload)) <= 5000
