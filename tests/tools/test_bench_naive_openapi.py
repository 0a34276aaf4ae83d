"""The yardstick of the token benchmark: a naive, complete OpenAPI → MCP conversion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from naive_openapi import naive_tools  # noqa: E402


def test_one_tool_per_operation_with_every_ref_inlined() -> None:
    tools = naive_tools()
    assert len(tools) == 70
    assert len({t["name"] for t in tools}) == 70
    assert "$ref" not in json.dumps(tools)
    for tool in tools:
        assert tool["inputSchema"]["type"] == "object"
        assert tool["description"]
        if "outputSchema" in tool:
            assert tool["outputSchema"]["type"] == "object"


def test_parameters_and_body_properties_are_arguments() -> None:
    by_name = {t["name"]: t for t in naive_tools()}
    assert "chat_id" in by_name["get_chat"]["inputSchema"]["properties"]
    create = by_name["create_chat"]["inputSchema"]
    assert {"from", "to", "message"} <= set(create["properties"])
    assert "message" in create["required"]


def test_without_output_schemas() -> None:
    assert all("outputSchema" not in t for t in naive_tools(output_schema=False))
