"""Helpers for the install and doctor tests: where each client's file lands under a test home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from linq_mcp.cli.main import main

CLIENT_FILES = {
    # where each client keeps its user config, relative to the temporary home (Linux layout)
    "claude-desktop": ".config/Claude/claude_desktop_config.json",
    "claude-code": ".claude.json",
    "cursor": ".cursor/mcp.json",
    "vscode": ".config/Code/User/mcp.json",
}
SERVERS_KEY = {"claude-desktop": "mcpServers", "claude-code": "mcpServers", "cursor": "mcpServers", "vscode": "servers"}


def run(*argv: str) -> int:
    return main(list(argv))


def read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
