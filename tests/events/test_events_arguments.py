"""The events tools read only local data: bad arguments name their field, and a local failure never
claims a Linq outcome ("whether the request reached Linq is unknown")."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from e2e_helpers import connected, text_of
from events_helpers import settings_for

from linq_mcp.sandbox.app import Sandbox

BAD_SINCE = ["1" * 20, "9" * 25, "9223372036854775808", "١٢٣", "12 ", "-1", 12, True]
TOOLS = ["list_events", "wait_for_event"]


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("since", BAD_SINCE, ids=repr)
async def test_a_since_that_is_not_a_cursor_is_refused_naming_since(
    sandbox: Sandbox, tmp_path: Path, tool: str, since: Any
) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool(
            tool, {"since": since, "timeout": 0} if tool == "wait_for_event" else {"since": since}
        )
    got = result.structured_content or {}
    assert result.is_error
    assert got["error"] == "invalid_arguments"
    assert [p["path"] for p in got["problems"]] == ["since"]
    assert "Linq" not in text_of(result)


@pytest.mark.parametrize("tool", TOOLS)
async def test_an_empty_since_is_a_strict_models_absent_cursor(sandbox: Sandbox, tmp_path: Path, tool: str) -> None:
    """OpenAI strict mode must send every property; "" is how it says "no cursor" (see the dialect)."""
    args: dict[str, Any] = {"since": ""}
    if tool == "wait_for_event":
        args["timeout"] = 0
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)


@pytest.mark.parametrize("tool", TOOLS)
async def test_the_largest_cursor_is_a_valid_read(sandbox: Sandbox, tmp_path: Path, tool: str) -> None:
    args: dict[str, Any] = {"since": str(2**63 - 1)}
    if tool == "wait_for_event":
        args["timeout"] = 0
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"types": "message.received"}, "types"),
        ({"types": [1]}, "types[0]"),
        ({"types": ["message.received", ""]}, "types[1]"),
        ({"types": ["x"] * 51}, "types"),
        ({"chat_id": 7}, "chat_id"),
        ({"chat_id": ""}, "chat_id"),
        ({"chat_id": "a\nb"}, "chat_id"),
        ({"limit": 0}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"bogus": 1}, "bogus"),
    ],
)
async def test_every_list_events_argument_is_checked_by_name(
    sandbox: Sandbox, tmp_path: Path, args: dict[str, Any], field: str
) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool("list_events", args)
    got = result.structured_content or {}
    assert result.is_error and got["error"] == "invalid_arguments"
    assert [p["path"] for p in got["problems"]] == [field]
    assert field in got["message"]


@pytest.mark.parametrize("timeout", [-1, 301, "5", True], ids=repr)
async def test_wait_for_event_timeout_is_checked_by_name(sandbox: Sandbox, tmp_path: Path, timeout: Any) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool("wait_for_event", {"timeout": timeout})
    got = result.structured_content or {}
    assert result.is_error and [p["path"] for p in got["problems"]] == ["timeout"]


@pytest.mark.parametrize("tool", TOOLS)
async def test_a_broken_local_store_is_reported_as_local_not_as_a_linq_outcome(
    sandbox: Sandbox, tmp_path: Path, tool: str
) -> None:
    db = tmp_path / "db.sqlite3"
    async with connected(sandbox, settings_for(db)) as (client, _):
        with sqlite3.connect(db) as damage:  # someone (or a bad disk) removed the events table
            damage.execute("DROP TABLE webhook_events")
        await anyio.sleep(0.5)  # the server's background readers meet the damage too, and must survive it
        args: dict[str, Any] = {"since": "0"} if tool == "list_events" else {"since": "0", "timeout": 0.1}
        result = await client.call_tool(tool, args)
        again = await client.call_tool(tool, args)  # the server is still there to answer
    text = text_of(result)
    assert result.is_error and again.is_error
    assert "reached Linq" not in text and "unknown" not in text.lower()
    assert "nothing was sent to Linq" in text
