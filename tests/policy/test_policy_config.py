"""[safety] configuration: names, errors that name the key, and flags > env > file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from linq_mcp.config.settings import SettingsError, add_arguments, flags_of, load
from linq_mcp.policy import SafetyConfig, SafetyConfigError


def parse_flags(*argv: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return flags_of(parser.parse_args(list(argv)))


def layered(
    tmp_path: Path, section: dict[str, Any], environ: dict[str, str] | None = None, flags: dict[str, Any] | None = None
) -> SafetyConfig:
    """The [safety] section after flags > environment > file, through the one settings loader."""
    lines = ["[safety]"]
    for key, value in section.items():
        text = "[" + ", ".join(f'"{v}"' for v in value) + "]" if isinstance(value, list) else repr(value)
        lines.append(f"{key} = {text}".replace("'", '"'))
    path = tmp_path / "c.toml"
    path.write_text("\n".join(lines) + "\n")
    return load(flags or {}, environ or {}, config_file=str(path)).safety


def test_the_documented_toml_section_is_read_as_written() -> None:
    config = SafetyConfig.from_mapping(
        {
            "allow_recipients": ["+1555*", "*@example.com"],
            "block_recipients": [],
            "confirm": "first_contact",
            "max_sends_per_minute": 10,
            "max_sends_per_hour": 100,
            "max_sends_per_day": 500,
            "max_sends_per_recipient_per_hour": 20,
            "max_group_size": 10,
            "inbound": "all",
            "default_region": "US",
        }
    )
    assert config == SafetyConfig(allow_recipients=("+1555*", "*@example.com"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("confirm", "sometimes"),
        ("inbound", "friends"),
        ("max_sends_per_hour", 0),
        ("max_sends_per_minute", "ten"),
        ("max_group_size", True),
        ("default_region", "Narnia"),
        ("allow_recipients", ["1555*"]),
        ("block_recipients", ["not a handle"]),
    ],
)
def test_a_bad_file_value_raises_an_error_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(SafetyConfigError, match=key):
        SafetyConfig.from_mapping({key: value})


def test_an_unknown_key_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(SafetyConfigError, match="max_sends_per_hour"):
        SafetyConfig.from_mapping({"max_sends_per_hr": 5})


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="LINQ_MCP_MAX_SENDS_PER_DAY"):
        load({}, {"LINQ_MCP_MAX_SENDS_PER_DAY": "-3"})


def test_a_bad_flag_names_the_flag() -> None:
    with pytest.raises(SettingsError, match="--max-group-size"):
        load(parse_flags("--max-group-size", "0"), {})


def test_environment_lists_are_comma_separated() -> None:
    config = load({}, {"LINQ_MCP_ALLOW_RECIPIENTS": "+1555*, *@example.com", "LINQ_MCP_CONFIRM": "ALWAYS"}).safety
    assert config.allow_recipients == ("+1555*", "*@example.com")
    assert config.confirm == "always"


def test_flags_beat_environment_which_beats_the_file(tmp_path: Path) -> None:
    config = layered(
        tmp_path,
        {"confirm": "never", "max_sends_per_hour": 50, "max_sends_per_day": 60, "allow_recipients": ["+1555*"]},
        {"LINQ_MCP_CONFIRM": "always", "LINQ_MCP_MAX_SENDS_PER_HOUR": "40"},
        parse_flags("--confirm", "first_contact"),
    )
    assert config.confirm == "first_contact"  # flag over env over file
    assert config.max_sends_per_hour == 40  # env over file
    assert config.max_sends_per_day == 60  # file over default
    assert config.allow_recipients == ("+1555*",)  # untouched by later layers


def test_a_repeated_flag_replaces_the_file_list(tmp_path: Path) -> None:
    flags = parse_flags("--allow-recipient", "+1666*", "--allow-recipient", "a@b.com")
    config = layered(tmp_path, {"allow_recipients": ["+1555*"]}, {}, flags)
    assert config.allow_recipients == ("+1666*", "a@b.com")


def test_flags_not_given_leave_lower_layers_alone(tmp_path: Path) -> None:
    config = layered(tmp_path, {"inbound": "allowlisted", "allow_recipients": ["+1555*"]}, {}, parse_flags())
    assert config.inbound == "allowlisted"


def test_allowlisted_inbound_without_an_allowlist_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="allow_recipients"):
        layered(tmp_path, {"inbound": "allowlisted"})


def test_caps_must_nest_minute_hour_day(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="max_sends_per_minute"):
        layered(tmp_path, {"max_sends_per_minute": 200})


def test_the_payment_credentials_flag_is_defined_once() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = [a for a in parser._actions if "--allow-payment-credentials" in a.option_strings]
    assert len(flags) == 1
    assert load(flags_of(parser.parse_args(["--allow-payment-credentials"])), {}).allow_payment_credentials
