"""The key from where people already keep it: the environment, else the Linq CLI's
``~/.linq/config.json`` (``LINQ_PROFILE`` picks the profile), as Linq's own server reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linq_mcp.config import settings as settings_mod


def write_cli_config(home: Path, data: object) -> None:
    (home / ".linq").mkdir(exist_ok=True)
    (home / ".linq" / "config.json").write_text(json.dumps(data))


PROFILES = {
    "version": 2,
    "profile": "default",
    "profiles": {"default": {"token": "tok_default", "fromPhone": "+15550100001"}, "work": {"token": "tok_work"}},
}


def test_the_active_profile_token_is_used_when_no_variable_is_set(home: Path) -> None:
    write_cli_config(home, PROFILES)
    settings = settings_mod.load({})
    assert settings.api_key == "tok_default"
    assert settings.api_key_source is not None and "profile 'default'" in settings.api_key_source


def test_linq_profile_chooses_another_profile(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cli_config(home, PROFILES)
    monkeypatch.setenv("LINQ_PROFILE", "work")
    assert settings_mod.load({}).api_key == "tok_work"


def test_the_environment_wins_over_the_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cli_config(home, PROFILES)
    monkeypatch.setenv("LINQ_API_V3_API_KEY", "tok_env")
    settings = settings_mod.load({})
    assert (settings.api_key, settings.api_key_source) == ("tok_env", "LINQ_API_V3_API_KEY")


@pytest.mark.parametrize(
    "content",
    ["not json {", json.dumps({"profile": "default"}), json.dumps({"profiles": {"default": {}}})],
    ids=["broken", "no-profiles", "no-token"],
)
def test_an_unusable_file_gives_no_key_rather_than_an_error(home: Path, content: str) -> None:
    (home / ".linq").mkdir()
    (home / ".linq" / "config.json").write_text(content)
    assert settings_mod.load({}).api_key is None


def test_a_missing_profile_is_named_by_doctor(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from install_helpers import run

    write_cli_config(home, PROFILES)
    monkeypatch.setenv("LINQ_PROFILE", "personal")
    assert run("doctor", "--json") == 1
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert "no profile 'personal'" in checks["API key"]["detail"]
    assert "default, work" in checks["API key"]["detail"]
