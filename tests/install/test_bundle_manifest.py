"""The MCPB manifest ``tools/build_mcpb.py`` writes (the official CLI validates it in CI:
``.ci/bundle.sh``), and the bundle's entry point."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from linq_mcp.cli.tooltable import rows
from linq_mcp.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def build_mcpb() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_mcpb", ROOT / "tools" / "build_mcpb.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_key_is_asked_for_as_sensitive_and_reaches_the_server_only_through_the_environment() -> None:
    manifest = build_mcpb().manifest()
    key = manifest["user_config"]["api_key"]
    assert key["sensitive"] is True and key["type"] == "string"
    config = manifest["server"]["mcp_config"]
    assert config["env"]["LINQ_API_V3_API_KEY"] == "${user_config.api_key}"
    assert not any("user_config.api_key" in arg for arg in config["args"])


def test_toolsets_read_only_and_sandbox_are_user_options_the_server_reads() -> None:
    manifest = build_mcpb().manifest()
    env = manifest["server"]["mcp_config"]["env"]
    assert env["LINQ_MCP_TOOLSETS"] == "${user_config.toolsets}"
    assert env["LINQ_MCP_READ_ONLY"] == "${user_config.read_only}"
    assert env["LINQ_MCP_SANDBOX"] == "${user_config.sandbox}"
    assert manifest["user_config"]["read_only"]["type"] == "boolean"


def test_the_manifest_lists_every_tool_the_server_can_expose() -> None:
    manifest = build_mcpb().manifest()
    every = {str(r["name"]) for r in rows(Settings(toolsets=("all",), allow_payment_credentials=True))}
    assert {t["name"] for t in manifest["tools"]} == every
    assert manifest["tools_generated"] is False


def test_the_entry_point_ignores_options_left_empty_or_unsubstituted(tmp_path: Path) -> None:
    server = tmp_path / "server"
    (server / "lib").mkdir(parents=True)
    (server / "main.py").write_text(build_mcpb().MAIN_PY)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LINQ_MCP_TOOLSETS": "${user_config.toolsets}",
        "LINQ_MCP_READ_ONLY": "",
        "LINQ_API_V3_API_KEY": "",
    }
    out = subprocess.run(
        [sys.executable, str(server / "main.py"), "tools", "--json"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    enabled = {t["name"] for t in json.loads(out.stdout) if t["enabled"]}
    assert "send_message" in enabled
