"""Every tool works in every client: one portable schema dialect, null as "absent", error
results that pass every SDK's output-schema check and whose text says everything.

The converters are the frameworks' own code (google-genai, openai-agents, anthropic), run
when those packages are installed (the ``compat`` extra); the dialect checker always runs.
"""

from __future__ import annotations

import copy

import mcp.types as types
import pytest
from e2e_helpers import AVA, LINE, connected, text_of
from jsonschema import Draft202012Validator

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.tools.dialect import dialect_problems

UNKNOWN_CHAT = "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"


async def all_tools(sandbox: Sandbox) -> list[types.Tool]:
    async with connected(sandbox) as (client, _):
        return list((await client.list_tools()).tools)


async def test_every_tool_of_toolsets_all_is_written_in_the_portable_dialect(sandbox: Sandbox) -> None:
    tools = await all_tools(sandbox)
    assert len(tools) >= 72
    broken = {t.name: dialect_problems(t.input_schema) for t in tools}
    assert {name: p for name, p in broken.items() if p} == {}


async def test_no_listed_description_is_cut_short(sandbox: Sandbox) -> None:
    tools = await all_tools(sandbox)
    amount = next(t for t in tools if t.name == "create_payment_request").input_schema["properties"]["amount"]
    assert amount["description"].endswith("(e.g. cents).")


async def test_google_genai_converts_every_tool(sandbox: Sandbox) -> None:
    _mcp_utils = pytest.importorskip("google.genai._mcp_utils")
    for tool in await all_tools(sandbox):
        converted = _mcp_utils.mcp_to_gemini_tool(tool)  # crashed on boolean additionalProperties
        assert converted.function_declarations and converted.function_declarations[0].name == tool.name


async def test_openai_agents_strict_conversion_needs_no_fallback(sandbox: Sandbox) -> None:
    strict_schema = pytest.importorskip("agents.strict_schema")
    non_strict = []
    for tool in await all_tools(sandbox):
        try:  # what MCPUtil.to_function_tool runs with convert_schemas_to_strict=True
            strict_schema.ensure_strict_json_schema(copy.deepcopy(tool.input_schema), _reject_open_objects=True)
        except Exception:
            non_strict.append(tool.name)
    # Not even the free-form maps (payments' metadata, an experience's params): they are listed as pairs.
    assert non_strict == []


async def test_anthropic_strict_transform_accepts_every_tool(sandbox: Sandbox) -> None:
    transform = pytest.importorskip("anthropic.lib._parse._transform")
    for tool in await all_tools(sandbox):
        transform.transform_schema(copy.deepcopy(tool.input_schema))  # refused typeless anyOf branches


async def test_a_no_argument_tool_takes_its_placeholder_or_nothing(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        for args in ({}, {"unused": None}, {"unused": False}):
            result = await client.call_tool("list_phone_numbers", args)
            assert not result.is_error, result.content


async def test_null_for_an_optional_argument_means_absent(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        listed = await client.call_tool("list_chats", {"from": None, "to": None, "cursor": None, "limit": None})
        assert not listed.is_error, listed.content


async def test_null_means_absent_for_the_events_tools_too(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        listed = await client.call_tool("list_events", {"chat_id": None, "types": None, "since": None, "limit": None})
        waited = await client.call_tool(
            "wait_for_event", {"chat_id": "quiet", "types": None, "since": None, "timeout": 0.1}
        )
    assert not listed.is_error, listed.content
    assert not waited.is_error and (waited.structured_content or {})["timed_out"] is True, waited.content


async def test_a_strict_mode_send_with_every_property_present_goes_out(sandbox: Sandbox) -> None:
    """What OpenAI strict sends: every listed property, null or empty where it means "none"."""
    async with connected(sandbox) as (client, _):
        args = {
            "from": LINE,
            "to": [AVA],
            "message": {
                "parts": [{"type": "text", "value": "Hello", "url": None, "attachment_id": None}],
                "effect": None,
                "reply_to": None,
                "preferred_service": None,
            },
            "override_optout": None,
            "idempotency_key": "",
            "dry_run": None,
            "confirm_token": "",
        }
        result = await client.call_tool("create_chat", args)
        assert not result.is_error, result.content
        assert (result.structured_content or {}).get("idempotency_key", "").startswith("lmcp_")


async def test_a_free_form_map_listed_as_pairs_reaches_the_api_as_a_map(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["create_payment_request"].input_schema["properties"]["metadata"]["type"] == "array"
        base = {"amount": 500, "currency": "usd", "rail": "stripe"}
        pairs = [{"key": "order", "value": "42"}]
        as_pairs = await client.call_tool("create_payment_request", {**base, "metadata": pairs})
        as_map = await client.call_tool("create_payment_request", {**base, "metadata": {"order": "43"}})
    assert not as_pairs.is_error and not as_map.is_error, (as_pairs.content, as_map.content)
    assert (as_pairs.structured_content or {})["metadata"] == {"order": "42"}
    assert (as_map.structured_content or {})["metadata"] == {"order": "43"}


async def test_strict_mode_placeholders_for_optional_fields_mean_absent(sandbox: Sandbox) -> None:
    """A strict model cannot send null for a string or an object: "" or {} where no real value could be."""
    async with connected(sandbox) as (client, _):
        message = {"parts": [{"type": "text", "value": "Hi"}], "reply_to": {"message_id": ""}}
        sent = await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": message})
        listed = await client.call_tool("list_chats", {"from": "", "limit": 5})
    assert not sent.is_error, sent.content
    assert not listed.is_error, listed.content


async def test_null_for_a_required_argument_is_reported_as_missing(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        result = await client.call_tool("get_chat", {"chat_id": None})
        assert result.is_error
        text = text_of(result)
        assert "chat_id: missing required field" in text


async def test_an_error_result_conforms_to_the_tools_output_schema(sandbox: Sandbox) -> None:
    """The TypeScript SDK 1.x checks structuredContent against outputSchema even on isError."""
    async with connected(sandbox) as (client, _):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        calls = {
            "get_chat": {"chat_id": UNKNOWN_CHAT},  # 404 from Linq
            "get_message": {"message_id": "not-a-uuid"},  # validation
            "send_message": {"chat_id": UNKNOWN_CHAT, "message": {"parts": [{"type": "text", "value": "hi"}]}},
            "list_events": {"limit": 0},
        }
        for name, args in calls.items():
            result = await client.call_tool(name, args)
            assert result.is_error, name
            schema = tools[name].output_schema
            assert schema is not None, name
            errors = list(Draft202012Validator(schema).iter_errors(result.structured_content))
            assert errors == [], (name, [e.message for e in errors])


async def test_every_output_schema_admits_the_error_shape(sandbox: Sandbox) -> None:
    from linq_mcp.api.errors import NotFoundError, tool_error

    shapes = [
        tool_error(NotFoundError(404, "Chat not found", code=2001, trace_id="t1"), idempotency_key="k"),
        {"error": "confirmation_required", "rule": "confirm", "message": "m", "preview": {}, "confirm_token": "c"},
        {"error": "invalid_arguments", "message": "1 invalid argument", "problems": [{"path": "x"}]},
    ]
    for tool in await all_tools(sandbox):
        if tool.output_schema is None:
            continue
        for shape in shapes:
            assert not list(Draft202012Validator(tool.output_schema).iter_errors(shape)), (tool.name, shape["error"])


async def test_an_api_error_text_states_code_meaning_fix_and_trace(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        result = await client.call_tool("get_chat", {"chat_id": UNKNOWN_CHAT})
        text = text_of(result)
        payload = result.structured_content or {}
        assert "HTTP 404" in text and f"code {payload['code']}" in text
        assert f"Fix: {payload['fix']}" in text and f"Meaning: {payload['meaning']}" in text
        if "trace_id" in payload:
            assert f"trace_id: {payload['trace_id']}" in text


async def test_a_confirmation_hold_puts_its_token_and_preview_in_the_text(sandbox: Sandbox) -> None:
    """openai-agents, langchain-mcp-adapters, the anthropic tool runner and fastmcp pass only text on."""
    safety = SafetyConfig.from_mapping({"allow_recipients": (AVA,), "confirm": "first_contact"})
    settings = Settings(sandbox=True, toolsets=("all",), safety=safety)
    async with connected(sandbox, settings) as (client, _):
        args = {"from": LINE, "to": [AVA], "message": {"parts": [{"type": "text", "value": "Hello Ava"}]}}
        held = await client.call_tool("create_chat", args)
        assert held.is_error
        hold = held.structured_content or {}
        text = text_of(held)
        assert f"confirm_token: {hold['confirm_token']}" in text
        assert "Hello Ava" in text  # the preview
        assert f"idempotency_key: {hold['idempotency_key']}" in text


async def test_wait_for_event_default_timeout_fits_openai_agents_client_timeout(sandbox: Sandbox) -> None:
    """openai-agents cuts a call off after client_session_timeout_seconds (5 s unless raised)."""
    import inspect

    client_timeout = 5.0
    try:
        from agents.mcp import MCPServerStdio

        default = inspect.signature(MCPServerStdio.__init__).parameters["client_session_timeout_seconds"].default
        client_timeout = float(default)
    except ImportError:
        pass
    wait = next(t for t in await all_tools(sandbox) if t.name == "wait_for_event")
    assert wait.input_schema["properties"]["timeout"]["default"] < client_timeout


def test_an_error_field_the_renderer_does_not_know_still_reaches_the_text() -> None:
    """Whatever a layer adds to an error (expiry, a handle count …) the model reads in the text."""
    from linq_mcp.api.errors import render_tool_error

    text = render_tool_error(
        {"error": "policy_refused", "rule": "max_sends_per_hour", "message": "Cap reached.", "resets_in": 1200}
    )
    assert "resets_in: 1200" in text and "Rule: max_sends_per_hour" in text
