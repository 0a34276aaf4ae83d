"""Choosing the store: --store, LINQ_MCP_STORE_URL or [store] url; mistakes are one line, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from linq_mcp.cli.main import main
from linq_mcp.config.settings import SettingsError, load

URL = "postgresql://linq:s3cret-store-pw@db.internal:5432/linq"


def test_the_store_url_comes_from_the_environment() -> None:
    assert load({}, {"LINQ_MCP_STORE_URL": URL}).store_url == URL


def test_the_store_url_comes_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "linq-mcp.toml"
    config.write_text(f'[store]\nurl = "{URL}"\n')
    assert load({}, {}, str(config)).store_url == URL


def test_the_flag_beats_the_environment() -> None:
    other = "postgresql://postgres@127.0.0.1/other"
    assert load({"store_url": other}, {"LINQ_MCP_STORE_URL": URL}).store_url == other


def test_no_store_url_means_the_sqlite_file() -> None:
    assert load({}, {}).store_url is None


def test_a_url_that_is_not_postgresql_names_the_setting_and_the_fix() -> None:
    with pytest.raises(SettingsError, match=r"LINQ_MCP_STORE_URL.*postgresql://user:password@host:5432/dbname"):
        load({}, {"LINQ_MCP_STORE_URL": "mysql://linq:pw@db/linq"})


def test_the_diagnostic_view_hides_the_password() -> None:
    shown = load({}, {"LINQ_MCP_STORE_URL": URL}).redacted()["store_url"]
    assert shown == "postgresql://linq:***@db.internal:5432/linq"


def test_an_unreachable_store_at_start_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--sandbox", "--store", "postgresql://linq:s3cret-store-pw@127.0.0.1:1/linq"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert [line for line in err if "SANDBOX MODE" not in line] == [
        next(line for line in err if line.startswith("linq-mcp: the store postgresql://linq:***@127.0.0.1:1/linq"))
    ]
    assert "s3cret-store-pw" not in "\n".join(err) and "Traceback" not in "\n".join(err)


def test_a_bad_store_url_on_the_command_line_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--sandbox", "--store", "postgres://linq:pw@127.0.0.1:notaport/linq"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("linq-mcp: --store (LINQ_MCP_STORE_URL, [store] url) has a bad port") and "\n" not in err
