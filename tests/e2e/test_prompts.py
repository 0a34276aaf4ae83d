"""Prompts a person can pick, and the logging level a 2025-era client can set."""

from __future__ import annotations

import logging

import pytest
from e2e_helpers import connected
from mcp import MCPError
from mcp.types import TextContent

from linq_mcp.sandbox.app import Sandbox


async def test_prompts_are_listed_with_their_arguments(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, era=era) as (client, _):
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"text_someone", "catch_up"}
    assert [a.name for a in prompts["text_someone"].arguments or []] == ["to", "about"]


async def test_text_someone_walks_through_the_tools(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        got = await client.get_prompt("text_someone", {"to": "+15551230001", "about": "dinner on Friday"})
    content = got.messages[0].content
    assert isinstance(content, TextContent), content
    text = content.text
    assert "+15551230001" in text and "dinner on Friday" in text
    assert "create_chat" in text and "confirm_token" in text and "wait_for_event" in text


async def test_a_prompt_without_its_required_argument_is_refused(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        with pytest.raises(MCPError, match="about"):
            await client.get_prompt("text_someone", {"to": "+15551230001"})


async def test_logging_level_can_be_set_by_a_2025_client(sandbox: Sandbox) -> None:
    async with connected(sandbox, era="legacy") as (client, _):
        await client.set_logging_level("debug")
        assert logging.getLogger("linq_mcp").level == logging.DEBUG
        await client.set_logging_level("error")
        assert logging.getLogger("linq_mcp").level == logging.ERROR
    logging.getLogger("linq_mcp").setLevel(logging.NOTSET)
