"""One settings model: every option defined once, read flags > environment > TOML, one error shape."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from linq_mcp.config.settings import OPTIONS, Settings, SettingsError, add_arguments, flags_of, load
from linq_mcp.policy import SafetyConfig


def test_no_two_options_share_a_flag_a_variable_or_a_toml_key() -> None:
    for spelling in ("flag", "toml"):
        names = [getattr(o, spelling) for o in OPTIONS if getattr(o, spelling)]
        assert len(names) == len(set(names)), spelling
    variables = [v for o in OPTIONS for v in o.env]
    assert len(variables) == len(set(variables))


def test_every_option_names_a_settings_field() -> None:
    top = set(Settings.__dataclass_fields__)
    safety = set(SafetyConfig.__dataclass_fields__)
    for option in OPTIONS:
        section, _, key = option.name.partition(".")
        assert (key in safety) if key else (section in top), option.name


def test_the_safety_section_is_a_typed_safety_config() -> None:
    assert isinstance(Settings().safety, SafetyConfig)
    assert load({}, {"LINQ_MCP_MAX_GROUP_SIZE": "4"}).safety.max_group_size == 4


@pytest.mark.parametrize(
    ("source", "named"),
    [("flag", "--port"), ("env", "environment LINQ_MCP_PORT"), ("file", "[server] port")],
)
def test_a_bad_value_gives_the_same_error_from_every_source(tmp_path: Path, source: str, named: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[server]\nport = "eighty"\n')
    flags = {"port": "eighty"} if source == "flag" else {}
    environ = {"LINQ_MCP_PORT": "eighty"} if source == "env" else {}
    with pytest.raises(SettingsError) as caught:
        load(flags, environ, config_file=str(config) if source == "file" else None)
    message = str(caught.value)
    assert named in message.split(": ")[0]
    assert "'eighty' is not allowed" in message and "e.g. --port 8000" in message
    assert "--port, LINQ_MCP_PORT, [server] port" in message and "\n" not in message


def test_a_bad_secret_is_named_but_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load({}, {"LINQ_MCP_SECRET": "hunter2-is-short"})
    assert "LINQ_MCP_SECRET" in str(caught.value) and "hunter2" not in str(caught.value)


def test_flags_are_built_from_the_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    given = flags_of(parser.parse_args(["--port", "9000", "--allow-recipient", "+1555*", "--read-only"]))
    assert given == {"port": "9000", "safety.allow_recipients": ["+1555*"], "read_only": True}


def test_a_bad_value_on_the_command_line_exits_2_with_one_line_and_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "linq_mcp", "tools", "--max-sends-per-hour", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert "--max-sends-per-hour" in line and "LINQ_MCP_MAX_SENDS_PER_HOUR" in line and "[safety]" in line
