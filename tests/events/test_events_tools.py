"""The events tools: wait_for_event (the reply, timeouts, cursors, progress) and list_events paging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import events_helpers
import pytest
from e2e_helpers import AVA, connected, data, text_of
from events_helpers import settings_for, start_chat, text
from jsonschema import Draft202012Validator

from linq_mcp.events import tools as event_tools
from linq_mcp.sandbox.app import Sandbox


@pytest.fixture(autouse=True)
def on_each_store(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tools run on both stores: the server's events in the SQLite file or in PostgreSQL."""
    if backend == "postgresql":
        monkeypatch.setattr(events_helpers, "STORE_URL", request.getfixturevalue("pg_store_url"))


async def test_wait_for_event_returns_the_persons_reply(sandbox: Sandbox, era: str, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3"), era=era) as (client, _):
        chat_id = await start_chat(client, "Dinner on Friday?")
        got = data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": "0", "timeout": 5}))
    event = got["event"]
    assert got["timed_out"] is False
    assert event["type"] == "message.received" and event["chat_id"] == chat_id and event["from"] == AVA
    assert "Dinner" in event["untrusted_content"]["untrusted_text"]
    assert got["cursor"] == event["cursor"]


async def test_wait_for_event_times_out_with_a_cursor(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        with anyio.fail_after(3):
            got = data(await client.call_tool("wait_for_event", {"chat_id": "no-such-chat", "timeout": 0.2}))
    assert got == {"timed_out": True, "cursor": "0"}


async def test_since_cursor_catches_what_arrived_between_calls(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        before = data(await client.call_tool("list_events", {}))["cursor"]
        chat_id = await start_chat(client)
        await anyio.sleep(0.5)  # the reply has arrived before anyone waits for it
        missed = data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "timeout": 0.2}))
        caught = data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": before, "timeout": 1}))
    assert missed["timed_out"] is True
    assert caught["timed_out"] is False and caught["event"]["type"] == "message.received"


async def test_wait_for_event_matches_the_types_asked_for(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        chat_id = await start_chat(client)
        args: dict[str, Any] = {"chat_id": chat_id, "since": "0", "types": ["reaction.*"], "timeout": 5}
        got = data(await client.call_tool("wait_for_event", args))
    assert got["event"]["type"] == "reaction.added"
    assert got["event"]["reaction"] == {"type": "love", "part_index": 0}


async def test_wait_for_event_reports_progress_while_waiting(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_tools, "PROGRESS_EVERY", 0.1)
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        result = await client.call_tool(
            "wait_for_event", {"chat_id": "quiet", "timeout": 0.55}, progress_callback=on_progress
        )
    assert data(result)["timed_out"] is True
    assert len(seen) >= 3
    assert all(total == 0.55 and 0 < progress <= 0.55 for progress, total in seen)


async def test_bad_arguments_are_tool_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        long = await client.call_tool("wait_for_event", {"timeout": 301})
        cursor = await client.call_tool("list_events", {"since": "yesterday"})
    assert long.is_error and "timeout" in text_of(long)
    assert cursor.is_error and "since" in text_of(cursor)


async def test_list_events_pages_forward_without_gaps_or_repeats(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        chat_id = await start_chat(client)
        data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": "0", "timeout": 5}))
        everything = data(await client.call_tool("list_events", {"since": "0", "limit": 100}))
        pages: list[list[dict[str, Any]]] = []
        cursor: str | None = "0"
        while cursor is not None:
            page = data(await client.call_tool("list_events", {"since": cursor, "limit": 2}))
            pages.append(page["events"])
            cursor = page["next_cursor"]
        latest = data(await client.call_tool("list_events", {"limit": 3}))
    walked = [e["event_id"] for page in pages for e in page]
    assert walked == [e["event_id"] for e in everything["events"]]
    assert len(walked) >= 5 and len(set(walked)) == len(walked)
    assert all(len(p) <= 2 for p in pages)
    assert [e["event_id"] for e in latest["events"]] == walked[-3:]
    assert latest["next_cursor"] is None and latest["cursor"] == everything["cursor"]


async def test_list_events_filters_by_chat_and_type_family(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        first = await start_chat(client)
        second = await start_chat(client, "hello", to="+15551230004")
        data(await client.call_tool("wait_for_event", {"chat_id": first, "since": "0", "timeout": 5}))
        data(await client.call_tool("send_message", {"chat_id": second, "message": text("again")}))
        page = data(await client.call_tool("list_events", {"chat_id": first, "types": ["message.*"], "since": "0"}))
    assert page["events"]
    assert {e["chat_id"] for e in page["events"]} == {first}
    assert {e["type"] for e in page["events"]} <= {
        "message.sent",
        "message.delivered",
        "message.read",
        "message.received",
    }


async def test_event_tools_are_listed_small_read_only_and_closed_world(
    sandbox: Sandbox, era: str, tmp_path: Path
) -> None:
    import bpe_openai

    enc = bpe_openai.get_encoding("o200k_base")
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", toolsets=("default",)), era=era) as (
        client,
        _,
    ):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        chat_id = await start_chat(client)
        waited = data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": "0", "timeout": 5}))
        listed = data(await client.call_tool("list_events", {"since": "0"}))
    for name, result in (("wait_for_event", waited), ("list_events", listed)):
        tool = tools[name]
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True and tool.annotations.open_world_hint is False
        wire = tool.model_dump(by_alias=True, exclude_none=True)
        assert len(enc.encode(json.dumps(wire, separators=(",", ":")))) < 200, name
        assert tool.output_schema is not None
        Draft202012Validator(tool.output_schema).validate(result)
