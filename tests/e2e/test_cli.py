"""The linq-mcp command: the tool table, configuration precedence and clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linq_mcp.config import settings as settings_mod
from linq_mcp.config.settings import SettingsError


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "linq_mcp", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_tool_table_lists_every_tool_with_toolset_and_effect() -> None:
    proc = run("tools", "--json")
    table = json.loads(proc.stdout)
    assert len(table) == 72
    assert {row["name"] for row in table} >= {"send_message", "list_events", "wait_for_event"}
    assert sum(row["enabled"] for row in table) == 28
    assert all(
        row["effect"] in {"read", "create", "mutate", "visible", "send", "destructive", "secret"} for row in table
    )


def test_tool_table_honours_read_only() -> None:
    table = json.loads(run("tools", "--json", "--toolsets", "all", "--read-only").stdout)
    assert all(row["effect"] == "read" for row in table if row["enabled"])


def test_tool_table_under_all_leaves_payments_and_deprecated_off() -> None:
    table = json.loads(run("tools", "--json", "--toolsets", "all").stdout)
    on = {row["toolset"] for row in table if row["enabled"]}
    assert "payments" not in on and "deprecated" not in on
    assert {"messaging", "rich", "lines", "webhooks", "blocklist"} <= on


def test_tool_table_says_how_to_name_the_opt_in_toolsets() -> None:
    text = run("tools", "--toolsets", "all").stdout
    assert "payments and deprecated are enabled only by name" in text
    named = json.loads(run("tools", "--json", "--toolsets", "all,payments").stdout)
    assert any(row["enabled"] for row in named if row["toolset"] == "payments")


def test_unknown_toolset_exits_2_naming_it() -> None:
    proc = run("tools", "--toolsets", "mesaging")
    assert proc.returncode == 2
    assert "mesaging" in proc.stderr and "messaging" in proc.stderr


def test_unknown_config_key_exits_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[server]\ntoolset = ["all"]\n')
    proc = run("tools", "--config", str(config))
    assert proc.returncode == 2
    assert "toolset" in proc.stderr and "toolsets" in proc.stderr


def test_bad_safety_value_exits_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[safety]\nconfirm = "sometimes"\n')
    proc = run("tools", "--config", str(config))
    assert proc.returncode == 2 and "confirm" in proc.stderr


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[server]\nport = 9001\ntoolsets = ["groups"]\nlog_level = "error"\n')
    env = {"LINQ_MCP_PORT": "9002", "LINQ_MCP_TOOLSETS": "media"}
    loaded = settings_mod.load({"port": 9003, "config_file": str(config)}, env)
    assert loaded.port == 9003
    assert loaded.toolsets == ("media",)
    assert loaded.log_level == "error"


def test_api_key_comes_from_either_variable() -> None:
    assert settings_mod.load({}, {"LINQ_API_KEY": "k1"}).api_key == "k1"
    assert settings_mod.load({}, {"LINQ_API_V3_API_KEY": "k2", "LINQ_API_KEY": "k1"}).api_key == "k2"


def test_a_bad_number_in_the_environment_is_named() -> None:
    with pytest.raises(SettingsError, match="LINQ_MCP_PORT"):
        settings_mod.load({}, {"LINQ_MCP_PORT": "eighty"})


def test_config_example_is_valid_and_complete() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    data = settings_mod.read_file(example)
    loaded = settings_mod.from_file(data)
    assert "safety" in loaded
    from linq_mcp.policy import SafetyConfig

    SafetyConfig.from_mapping(loaded["safety"]).validate()


@pytest.mark.parametrize("value", ["-1", "0", "0.01", "nan", "inf", "1e308"])
def test_a_bad_poll_interval_exits_2_with_one_line_naming_the_flag_and_the_fix(value: str) -> None:
    proc = run("--sandbox", f"--poll-interval={value}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert "--poll-interval" in line and "e.g. --poll-interval 10" in line


def test_poll_interval_0_in_a_config_file_still_means_no_polling(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[events]\npoll_interval = 0\n")  # as config.example.toml documents it
    assert settings_mod.load({}, environ={}, config_file=str(config)).poll_interval is None
