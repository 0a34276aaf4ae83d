"""Every client stack, over stdio and HTTP: it converts every tool and the model reads every result.

Each test reads the report of one (client, transport) run (see conftest.py and scenario.py):
the framework's own MCP client, its own tool conversion and its own tool-call path, with the
text it would hand a model. ``docs/clients.md`` is the table of these results.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scenario import AVA, LINE, UNKNOWN_CHAT, token_in

# Frameworks with a strict mode whose conversion must not fall back (issue 12's acceptance).
STRICT_CLIENTS = {"openai-agents", "anthropic", "langchain", "pydantic-ai"}

# What a client shows instead of the tool's own words when it cannot read a result.
NOT_THE_TOOLS_WORDS = ("EXCEPTION", "-32602", "Structured content does not match")


def seen(report: dict[str, Any], key: str) -> str:
    """The text the framework hands the model for one scenario call."""
    assert report["fatal"] is None, f"{report['client']} failed: {report['fatal']}\n{report['stderr']}"
    assert key in report["calls"], f"{report['client']} never made the call {key!r}: {report['calls']}"
    text = report["calls"][key]
    for marker in NOT_THE_TOOLS_WORDS:
        assert marker not in text, f"{report['client']} hands the model {text[:600]!r}, not the tool's result"
    return str(text)


def test_connects_and_lists_every_tool(report: dict[str, Any], tools_of_toolsets_all: list[str]) -> None:
    assert report["fatal"] is None, f"{report['client']} failed: {report['fatal']}\n{report['stderr']}"
    assert report["tools"] == len(tools_of_toolsets_all), f"{report['client']} {report['version']}"


def test_every_tool_converts_with_the_frameworks_own_code(report: dict[str, Any]) -> None:
    assert report["conversion_errors"] == {}, json.dumps(report["conversion_errors"], indent=1)[:3000]


def test_strict_mode_takes_every_tool_without_falling_back(report: dict[str, Any]) -> None:
    """Even the API's free-form maps (payments' metadata, an experience's params): linq-mcp lists them as pairs."""
    if report["client"] not in STRICT_CLIENTS:
        pytest.skip(f"{report['client']} has no strict mode that this matrix asserts")
    assert report["non_strict"] == {}, json.dumps(report["non_strict"], indent=1)[:3000]


def test_list_phone_numbers_reaches_the_model(report: dict[str, Any]) -> None:
    assert LINE in seen(report, "list_phone_numbers")


def test_check_imessage_reaches_the_model(report: dict[str, Any]) -> None:
    text = seen(report, "check_imessage")
    assert AVA in text and "available" in text and "true" in text.lower()


def test_a_failing_call_shows_the_tools_own_error(report: dict[str, Any]) -> None:
    text = seen(report, "unknown_chat")
    assert "Chat not found" in text and UNKNOWN_CHAT in text
    assert "list_chats" in text, "the fix (find the id with list_chats) must reach the model"


def test_a_validation_error_names_the_field_and_what_it_expects(report: dict[str, Any]) -> None:
    text = seen(report, "invalid_argument")
    assert "address" in text and "E.164" in text and "+14155550123" in text


def test_a_first_contact_shows_the_model_its_confirm_token(report: dict[str, Any]) -> None:
    text = seen(report, "first_contact")
    assert "onfirmation required" in text or "confirmation_required" in text
    assert token_in(text) is not None, f"no confirm_token in what {report['client']} hands the model: {text[:800]!r}"


def test_the_confirmed_send_goes_through_with_the_token_the_model_read(report: dict[str, Any]) -> None:
    text = seen(report, "confirmed")
    assert '"chat"' in text and AVA in text, text[:800]
    assert "onfirmation required" not in text and "confirmation_required" not in text


def test_null_for_an_optional_argument_means_absent(report: dict[str, Any]) -> None:
    """Strict-mode models send every property, null where they would omit one."""
    text = seen(report, "nulls_for_absent")
    assert AVA in text and "available" in text and "true" in text.lower()
