"""A temporary home for every test here: each client's config, the Linq CLI's file and the
data directory all live under it, so nothing touches the real user's files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("LINQ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("LINQ_MCP_DATA_DIR", str(home / "data"))
    monkeypatch.setattr(sys, "platform", "linux")
    return home
