"""The MCP clients linq-mcp installs into: where each keeps its servers, and in what shape.

Each client has its own file, key and secret handling:

- Claude Desktop: ``claude_desktop_config.json`` (macOS ``~/Library/Application Support/Claude``,
  Windows ``%APPDATA%\\Claude``, Linux ``$XDG_CONFIG_HOME/Claude``), key ``mcpServers``; no
  variable references, so a key is never written there unless asked.
- Claude Code: ``~/.claude.json``, user scope = the top-level ``mcpServers`` (what
  ``claude mcp add --scope user`` writes), entries carry ``"type": "stdio"``; ``${VAR}`` is expanded.
- Cursor: ``~/.cursor/mcp.json``, key ``mcpServers``; ``${env:VAR}`` is expanded.
- VS Code: the user profile's ``mcp.json`` (``Code/User/mcp.json``), key ``servers`` with
  ``"type": "stdio"``, plus ``inputs``: a ``promptString`` with ``password: true`` asks once and
  keeps the key in VS Code's secret storage; ``${env:VAR}`` is expanded too.

Nothing here touches another server's entry; reading never fails on a foreign shape.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENTRY_NAME = "linq-mcp"  # not "linq": that is the name Linq's own CLI installs its server under
VSCODE_INPUT_ID = "linq-api-key"
KEY_ENV = "LINQ_API_V3_API_KEY"


class ClientConfigError(Exception):
    """A client's file that linq-mcp will not rewrite; the message says why and what to do."""


@dataclass(frozen=True)
class Client:
    name: str  # the CLI's word: claude-desktop, claude-code, cursor, vscode
    title: str
    servers_key: str  # "mcpServers" or "servers"
    typed: bool  # entries carry "type": "stdio"
    env_ref: str | None  # how the file references an environment variable; None = it cannot

    def config_path(self, environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
        environ = os.environ if environ is None else environ
        platform = platform or sys.platform
        home = _home(environ)
        if self.name == "claude-code":
            return home / ".claude.json"
        if self.name == "cursor":
            return home / ".cursor" / "mcp.json"
        folder, leaf = ("Claude", "claude_desktop_config.json") if self.name == "claude-desktop" else ("Code", "")
        if platform == "darwin":
            base = home / "Library" / "Application Support" / folder
        elif platform == "win32":
            base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming") / folder
        else:
            base = Path(environ.get("XDG_CONFIG_HOME") or home / ".config") / folder
        return base / leaf if leaf else base / "User" / "mcp.json"

    def reference(self, variable: str) -> str:
        if self.env_ref is None:
            raise ClientConfigError(
                f"{self.title} cannot reference an environment variable in its config; "
                "use 'linq login' (linq-mcp reads ~/.linq/config.json), the .mcpb bundle, or --write-api-key"
            )
        return self.env_ref.format(variable)


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client("claude-desktop", "Claude Desktop", "mcpServers", typed=False, env_ref=None),
        Client("claude-code", "Claude Code", "mcpServers", typed=True, env_ref="${{{}}}"),
        Client("cursor", "Cursor", "mcpServers", typed=False, env_ref="${{env:{}}}"),
        Client("vscode", "VS Code", "servers", typed=True, env_ref="${{env:{}}}"),
    )
}


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(home) if home else Path.home()


def read_config(path: Path) -> dict[str, Any]:
    """The file as a JSON object; {} when absent. Anything else is refused, never overwritten."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ClientConfigError(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClientConfigError(
            f"{path} is not plain JSON ({exc.msg} at line {exc.lineno}; comments are not rewritten): "
            "add the entry by hand, shown with --print"
        ) from None
    if not isinstance(data, dict):
        raise ClientConfigError(f"{path} does not hold a JSON object; fix or move it, then run again")
    return data


def servers_of(client: Client, data: Mapping[str, Any]) -> dict[str, Any]:
    servers = data.get(client.servers_key, {})
    if not isinstance(servers, dict):
        raise ClientConfigError(f"'{client.servers_key}' in {client.title}'s config is not an object; fix it first")
    return servers


@dataclass(frozen=True)
class InstalledEntry:
    client: Client
    path: Path
    name: str
    command: str
    command_exists: bool


def _command_exists(command: str) -> bool:
    import shutil

    if os.path.isabs(command):
        return os.path.isfile(command) and os.access(command, os.X_OK)
    return shutil.which(command) is not None


def installed_entries(environ: Mapping[str, str] | None = None) -> list[InstalledEntry]:
    """Every client entry that runs linq-mcp, by its name or by its command; unreadable files are skipped."""
    found: list[InstalledEntry] = []
    for client in CLIENTS.values():
        path = client.config_path(environ)
        try:
            servers = servers_of(client, read_config(path))
        except ClientConfigError:
            continue
        for name, entry in servers.items():
            if not isinstance(entry, dict):
                continue
            command = str(entry.get("command", ""))
            args = [str(a) for a in entry.get("args") or []]
            ours = name == ENTRY_NAME or "linq-mcp" in Path(command).name or "linq_mcp" in args
            if ours and command:
                found.append(InstalledEntry(client, path, name, command, _command_exists(command)))
    return found
