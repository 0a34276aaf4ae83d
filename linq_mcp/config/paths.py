"""Where linq-mcp keeps its files: one per-user data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """``$LINQ_MCP_DATA_DIR``, else the platform's per-user data directory."""
    explicit = os.environ.get("LINQ_MCP_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "linq-mcp"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "linq-mcp"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "linq-mcp"


def default_db_path() -> Path:
    return data_dir() / "linq-mcp.sqlite3"
