"""``linq-mcp install|uninstall CLIENT``: each client's real file, merged and never clobbered."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest
from install_helpers import CLIENT_FILES, SERVERS_KEY, read, run
from mcp import Client, StdioServerParameters

from linq_mcp.cli.clients import CLIENTS

ALL = sorted(CLIENT_FILES)


@pytest.mark.parametrize("client", ALL)
def test_fresh_install_writes_an_entry_running_this_linq_mcp_by_absolute_path(home: Path, client: str) -> None:
    assert run("install", client, "--sandbox", "--toolsets", "messaging,rich", "--read-only") == 0
    entry = read(home / CLIENT_FILES[client])[SERVERS_KEY[client]]["linq-mcp"]
    command = Path(entry["command"])
    assert command.is_absolute() and command.is_file() and os.access(command, os.X_OK)
    assert entry["args"] == ["--sandbox", "--toolsets", "messaging,rich", "--read-only"]
    if client in ("claude-code", "vscode"):
        assert entry["type"] == "stdio"


@pytest.mark.parametrize("client", ALL)
def test_second_install_changes_nothing(home: Path, client: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = home / CLIENT_FILES[client]
    run("install", client, "--sandbox")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    capsys.readouterr()
    assert run("install", client, "--sandbox") == 0
    assert "nothing changed" in capsys.readouterr().out
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert not path.with_name(path.name + ".linq-mcp.bak").exists()


@pytest.mark.parametrize("client", ALL)
def test_install_merges_beside_other_servers_and_keys_and_keeps_a_backup(home: Path, client: str) -> None:
    path = home / CLIENT_FILES[client]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SERVERS_KEY[client]
    other = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}
    linq_cli = {"command": "linq", "args": ["mcp"]}  # what Linq's own CLI installs, under "linq"
    original = {"numStartups": 7, "projects": {"/src": {"mcpServers": {}}}, key: {"memory": other, "linq": linq_cli}}
    path.write_text(json.dumps(original), encoding="utf-8")
    assert run("install", client, "--sandbox") == 0
    data = read(path)
    assert data[key]["memory"] == other and data[key]["linq"] == linq_cli
    assert data["numStartups"] == 7 and data["projects"] == original["projects"]
    assert set(data[key]) == {"memory", "linq", "linq-mcp"}
    assert json.loads(path.with_name(path.name + ".linq-mcp.bak").read_text()) == original


@pytest.mark.parametrize("client", ALL)
def test_uninstall_removes_exactly_its_entry(home: Path, client: str) -> None:
    path = home / CLIENT_FILES[client]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SERVERS_KEY[client]
    path.write_text(json.dumps({key: {"memory": {"command": "npx"}}}), encoding="utf-8")
    run("install", client)  # live: VS Code also gets its key prompt in "inputs"
    assert run("uninstall", client) == 0
    data = read(path)
    assert data[key] == {"memory": {"command": "npx"}}
    assert data.get("inputs", []) == []


def test_uninstall_when_not_installed_writes_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("uninstall", "cursor") == 0
    assert "not installed" in capsys.readouterr().out
    assert not (home / CLIENT_FILES["cursor"]).exists()


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "vscode"])
def test_print_shows_the_entry_install_would_write_and_writes_nothing(
    home: Path, client: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("install", client, "--sandbox", "--print") == 0
    shown = json.loads(capsys.readouterr().out)
    assert not (home / CLIENT_FILES[client]).exists()
    run("install", client, "--sandbox")
    written = read(home / CLIENT_FILES[client])
    assert shown[SERVERS_KEY[client]] == written[SERVERS_KEY[client]]


def test_print_for_claude_code_is_the_native_claude_mcp_add_command(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("install", "claude-code", "--sandbox", "--print") == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:6] == ["claude", "mcp", "add", "--scope", "user", "linq-mcp"]
    separator = words.index("--")
    assert Path(words[separator + 1]).is_absolute() and words[-1] == "--sandbox"
    assert not (home / ".claude.json").exists()


@pytest.mark.parametrize("client", ALL)
async def test_the_written_entry_starts_and_answers_initialize(home: Path, client: str) -> None:
    run("install", client, "--sandbox")
    entry = read(home / CLIENT_FILES[client])[SERVERS_KEY[client]]["linq-mcp"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")} | entry["env"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    async with Client(params) as session:
        assert session.server_info is not None
        assert session.server_info.name == "linq-mcp"
        names = [t.name for t in (await session.list_tools()).tools]
        assert "send_message" in names


def test_live_install_writes_no_key_even_when_one_is_set(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINQ_API_V3_API_KEY", "sk_live_canary_0f3a")
    for client in ALL:
        run("install", client)
        assert "sk_live_canary_0f3a" not in (home / CLIENT_FILES[client]).read_text()
    assert "sk_live_canary_0f3a" not in capsys.readouterr().out


def test_api_key_env_writes_a_reference_the_client_expands(home: Path) -> None:
    run("install", "cursor", "--api-key-env", "MY_LINQ_KEY")
    run("install", "claude-code", "--api-key-env", "MY_LINQ_KEY")
    run("install", "vscode", "--api-key-env", "MY_LINQ_KEY")
    assert read(home / ".cursor/mcp.json")["mcpServers"]["linq-mcp"]["env"] == {
        "LINQ_API_V3_API_KEY": "${env:MY_LINQ_KEY}"
    }
    assert read(home / ".claude.json")["mcpServers"]["linq-mcp"]["env"] == {"LINQ_API_V3_API_KEY": "${MY_LINQ_KEY}"}
    vscode = read(home / CLIENT_FILES["vscode"])
    assert vscode["servers"]["linq-mcp"]["env"] == {"LINQ_API_V3_API_KEY": "${env:MY_LINQ_KEY}"}


def test_claude_desktop_refuses_a_variable_reference_it_cannot_expand(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("install", "claude-desktop", "--api-key-env", "MY_LINQ_KEY") == 1
    err = capsys.readouterr().err
    assert "cannot reference an environment variable" in err and "linq login" in err
    assert not (home / CLIENT_FILES["claude-desktop"]).exists()


def test_vscode_asks_for_the_key_with_a_password_input(home: Path) -> None:
    run("install", "vscode")
    data = read(home / CLIENT_FILES["vscode"])
    assert data["servers"]["linq-mcp"]["env"] == {"LINQ_API_V3_API_KEY": "${input:linq-api-key}"}
    (prompt,) = data["inputs"]
    assert prompt["type"] == "promptString" and prompt["id"] == "linq-api-key" and prompt["password"] is True


def test_write_api_key_writes_the_value_only_when_asked_into_a_private_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINQ_API_V3_API_KEY", "sk_live_asked_for")
    assert run("install", "claude-desktop", "--write-api-key") == 0
    path = home / CLIENT_FILES["claude-desktop"]
    assert read(path)["mcpServers"]["linq-mcp"]["env"] == {"LINQ_API_V3_API_KEY": "sk_live_asked_for"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_with_comments_is_refused_not_rewritten(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = home / CLIENT_FILES["vscode"]
    path.parent.mkdir(parents=True)
    original = '{\n  // my servers\n  "servers": {}\n}\n'
    path.write_text(original, encoding="utf-8")
    assert run("install", "vscode") == 1
    assert "--print" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == original


def test_an_unknown_toolset_is_refused_before_anything_is_written(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("install", "cursor", "--toolsets", "messaging,nonesuch") == 2
    assert "nonesuch" in capsys.readouterr().err
    assert not (home / CLIENT_FILES["cursor"]).exists()


@pytest.mark.parametrize(
    ("platform", "client", "expected"),
    [
        ("darwin", "claude-desktop", "Library/Application Support/Claude/claude_desktop_config.json"),
        ("win32", "claude-desktop", "AppData/Roaming/Claude/claude_desktop_config.json"),
        ("linux", "claude-desktop", ".config/Claude/claude_desktop_config.json"),
        ("darwin", "vscode", "Library/Application Support/Code/User/mcp.json"),
        ("win32", "vscode", "AppData/Roaming/Code/User/mcp.json"),
        ("linux", "vscode", ".config/Code/User/mcp.json"),
        ("win32", "cursor", ".cursor/mcp.json"),
        ("darwin", "claude-code", ".claude.json"),
    ],
)
def test_each_client_config_is_where_that_client_reads_it_on_each_os(
    home: Path, platform: str, client: str, expected: str
) -> None:
    assert CLIENTS[client].config_path(platform=platform) == home / expected
