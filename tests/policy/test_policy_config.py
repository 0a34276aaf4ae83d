"""[safety] configuration: names, errors that name the key, and flags > env > file."""

from __future__ import annotations

import argparse

import pytest

from linq_mcp.policy import SafetyConfig, SafetyConfigError, add_arguments


def parse_flags(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


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
        ("allow_payment_credentials", "perhaps"),
    ],
)
def test_a_bad_file_value_raises_an_error_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(SafetyConfigError, match=key):
        SafetyConfig.from_mapping({key: value})


def test_an_unknown_key_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(SafetyConfigError, match="max_sends_per_hour"):
        SafetyConfig.from_mapping({"max_sends_per_hr": 5})


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SafetyConfigError, match="LINQ_MCP_MAX_SENDS_PER_DAY"):
        SafetyConfig.from_env({"LINQ_MCP_MAX_SENDS_PER_DAY": "-3"})


def test_a_bad_flag_names_the_flag() -> None:
    with pytest.raises(SafetyConfigError, match="--max-group-size"):
        SafetyConfig.from_args(parse_flags("--max-group-size", "0"))


def test_environment_lists_are_comma_separated() -> None:
    config = SafetyConfig.from_env({"LINQ_MCP_ALLOW_RECIPIENTS": "+1555*, *@example.com", "LINQ_MCP_CONFIRM": "ALWAYS"})
    assert config.allow_recipients == ("+1555*", "*@example.com")
    assert config.confirm == "always"


def test_flags_beat_environment_which_beats_the_file() -> None:
    config = SafetyConfig.layered(
        {"confirm": "never", "max_sends_per_hour": 50, "max_sends_per_day": 60, "allow_recipients": ["+1555*"]},
        {"LINQ_MCP_CONFIRM": "always", "LINQ_MCP_MAX_SENDS_PER_HOUR": "40"},
        parse_flags("--confirm", "first_contact"),
    )
    assert config.confirm == "first_contact"  # flag over env over file
    assert config.max_sends_per_hour == 40  # env over file
    assert config.max_sends_per_day == 60  # file over default
    assert config.allow_recipients == ("+1555*",)  # untouched by later layers


def test_a_repeated_flag_replaces_the_file_list() -> None:
    config = SafetyConfig.layered(
        {"allow_recipients": ["+1555*"]}, {}, parse_flags("--allow-recipient", "+1666*", "--allow-recipient", "a@b.com")
    )
    assert config.allow_recipients == ("+1666*", "a@b.com")


def test_flags_not_given_leave_lower_layers_alone() -> None:
    config = SafetyConfig.layered({"inbound": "allowlisted", "allow_recipients": ["+1555*"]}, {}, parse_flags())
    assert config.inbound == "allowlisted"


def test_allowlisted_inbound_without_an_allowlist_is_rejected() -> None:
    with pytest.raises(SafetyConfigError, match="allow_recipients"):
        SafetyConfig.layered({"inbound": "allowlisted"})


def test_caps_must_nest_minute_hour_day() -> None:
    with pytest.raises(SafetyConfigError, match="max_sends_per_minute"):
        SafetyConfig.layered({"max_sends_per_minute": 200})


def test_the_payment_credentials_flag_is_not_added_twice() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--allow-payment-credentials", action="store_true", default=None)
    add_arguments(parser)
    assert SafetyConfig.from_args(parser.parse_args(["--allow-payment-credentials"])).allow_payment_credentials
