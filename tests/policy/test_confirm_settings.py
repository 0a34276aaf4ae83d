"""confirm_fallback and the server secret: read like every other setting, kept like a secret."""

from __future__ import annotations

import argparse
import os
import stat
import threading
from pathlib import Path

import pytest

from linq_mcp.config import settings as settings_mod
from linq_mcp.config.secret import SecretError, derive, load_or_create, server_secret
from linq_mcp.config.settings import Settings, SettingsError
from linq_mcp.policy import SafetyConfig, SafetyConfigError, add_arguments


def test_confirm_fallback_is_token_unless_the_operator_says_refuse() -> None:
    assert SafetyConfig().confirm_fallback == "token"
    assert SafetyConfig.from_mapping({"confirm_fallback": "refuse"}).confirm_fallback == "refuse"


def test_confirm_fallback_comes_from_env_and_flags_with_flags_winning() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = parser.parse_args(["--confirm-fallback", "token"])
    env = {"LINQ_MCP_CONFIRM_FALLBACK": "refuse"}
    assert SafetyConfig.layered({"confirm_fallback": "token"}, env).confirm_fallback == "refuse"
    assert SafetyConfig.layered({"confirm_fallback": "refuse"}, env, flags).confirm_fallback == "token"


def test_a_bad_confirm_fallback_names_the_key_and_the_choices() -> None:
    with pytest.raises(SafetyConfigError, match=r"confirm_fallback.*'ask'.*token, refuse"):
        SafetyConfig.from_mapping({"confirm_fallback": "ask"})


def test_the_secret_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and load_or_create(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret"], "no temporary file is left behind"


def test_processes_racing_to_create_the_secret_all_get_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    found: list[bytes] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        found.append(load_or_create(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and len(set(found)) == 1


def test_a_secret_file_others_can_read_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("a" * 64)
    os.chmod(path, 0o644)
    load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_truncated_secret_file_is_an_error_not_a_weak_key(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("short")
    with pytest.raises(SecretError, match="too short"):
        load_or_create(path)


def test_linq_mcp_secret_wins_and_must_be_long_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINQ_MCP_DATA_DIR", str(tmp_path))
    loaded = settings_mod.load({}, {"LINQ_MCP_SECRET": "s" * 40})
    assert server_secret(loaded) == b"s" * 40
    assert not (tmp_path / "secret").exists()
    with pytest.raises(SettingsError, match="LINQ_MCP_SECRET must be at least 32"):
        settings_mod.load({}, {"LINQ_MCP_SECRET": "too-short"})


def test_the_secret_is_never_shown_in_diagnostics() -> None:
    assert Settings(secret="s" * 40).redacted()["secret"] == "set"


def test_each_use_gets_its_own_key() -> None:
    secret = b"k" * 32
    assert derive(secret, "confirm-token") != derive(secret, "request-state")
    assert secret not in derive(secret, "confirm-token")
