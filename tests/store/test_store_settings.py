"""Choosing the store: --store, LINQ_MCP_STORE_URL or [store] url; mistakes are one line, secrets hidden."""

from __future__ import annotations

import subprocess
import sys
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
    assert err.startswith("linq-mcp: --store: ") and "has a bad port" in err and "\n" not in err
    assert "pw@" not in err  # the URL is a secret: named, never echoed


def test_the_sqlite_store_runs_without_psycopg_installed() -> None:
    """psycopg is the 'postgres' extra: the default store, and everything around it, never imports it."""
    probe = (
        "import sys, anyio, tempfile, pathlib\n"
        "sys.modules['psycopg'] = None\n"  # as if not installed: importing it raises ImportError
        "from linq_mcp.server import app\n"
        "from linq_mcp.store import open_store\n"
        "async def main():\n"
        "    store = await open_store(None, pathlib.Path(tempfile.mkdtemp()) / 's.sqlite3')\n"
        "    await store.health()\n"
        "    await store.aclose()\n"
        "anyio.run(main)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr
