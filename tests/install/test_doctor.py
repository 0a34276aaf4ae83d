"""``linq-mcp doctor``: passes on the sandbox, and each real failure comes with a one-line fix.

The failures are real: a sandbox on a loopback socket refuses a wrong key, a closed port
refuses connections, a data directory under a regular file cannot be created (this holds
even for root), and the sandbox's admin API moves its clock so its ``Date`` header is off.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from install_helpers import CLIENT_FILES, run

from linq_mcp.sandbox.config import DEFAULT_API_KEY


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """A sandbox on a real loopback socket (its own process, its own clock)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linq_mcp.sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/_sandbox/clock", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, dict[str, Any]]]:
    code = run("doctor", "--json", *argv)
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is (code == 0)
    return code, {c["name"]: c for c in report["checks"]}


def assert_fails_with_a_one_line_fix(check: dict[str, Any]) -> None:
    assert check["status"] == "fail"
    assert check["fix"] and "\n" not in check["fix"]


def test_doctor_passes_on_the_sandbox(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = doctor(capsys, "--sandbox")
    assert code == 0
    assert checks["key works"]["status"] == "ok"
    assert checks["clock"]["status"] == "ok"
    assert "+15550100001" in checks["lines"]["detail"]
    assert checks["data directory"]["status"] == "ok"
    assert "confirm: first_contact" in checks["safety policy"]["detail"]


def test_doctor_prints_a_readable_checklist_with_a_fix_under_each_failure(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("doctor") == 1  # no key anywhere
    out = capsys.readouterr().out
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if "[FAIL] API key" in line)
    assert lines[failed + 1].strip().startswith("fix: run 'linq login'")
    assert lines[-1].startswith("1 failed")


def test_a_wrong_key_fails_with_a_fix(
    home: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINQ_API_V3_API_KEY", "linq_wrong_key")
    code, checks = doctor(capsys, "--base-url", f"{sandbox_url}/api/partner")
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["key works"])
    assert "LINQ_API_V3_API_KEY" in checks["key works"]["detail"]
    assert "linq_wrong_key" not in json.dumps(checks)


def test_an_unreachable_base_url_fails_with_a_fix(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINQ_API_V3_API_KEY", DEFAULT_API_KEY)
    closed = f"http://127.0.0.1:{free_port()}/api/partner"
    code, checks = doctor(capsys, "--base-url", closed)
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["Linq API reachable"])
    assert closed in checks["Linq API reachable"]["detail"]


def test_an_unwritable_data_directory_fails_with_a_fix(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = home / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    monkeypatch.setenv("LINQ_MCP_DATA_DIR", str(blocker / "linq-mcp"))
    code, checks = doctor(capsys, "--sandbox")
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["data directory"])
    assert "LINQ_MCP_DATA_DIR" in checks["data directory"]["fix"]


def test_a_skewed_clock_fails_with_a_fix(
    home: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = httpx.post(
        f"{sandbox_url}/_sandbox/clock",
        json={"advance": 900},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )
    assert moved.status_code == 200
    monkeypatch.setenv("LINQ_API_V3_API_KEY", DEFAULT_API_KEY)
    code, checks = doctor(capsys, "--base-url", f"{sandbox_url}/api/partner")
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["clock"])
    assert "behind" in checks["clock"]["detail"]
    assert checks["key works"]["status"] == "ok"  # only the clock is wrong


def test_live_doctor_on_a_healthy_account_passes_and_names_the_key_source(
    home: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINQ_API_KEY", DEFAULT_API_KEY)
    code, checks = doctor(capsys, "--base-url", f"{sandbox_url}/api/partner")
    assert code == 0, checks
    assert checks["API key"]["detail"] == "from LINQ_API_KEY"
    assert checks["webhooks"]["status"] == "warn"  # no subscription yet: a warning with the setup command
    assert "webhooks setup" in checks["webhooks"]["fix"]


def test_the_key_from_the_linq_cli_file_is_used_and_named(
    home: Path, sandbox_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / ".linq").mkdir()
    (home / ".linq" / "config.json").write_text(
        json.dumps({"version": 2, "profile": "default", "profiles": {"default": {"token": DEFAULT_API_KEY}}})
    )
    code, checks = doctor(capsys, "--base-url", f"{sandbox_url}/api/partner")
    assert code == 0, checks
    assert ".linq/config.json" in checks["API key"]["detail"] and "'default'" in checks["API key"]["detail"]
    assert checks["key works"]["status"] == "ok"


def test_a_client_entry_whose_executable_is_gone_fails_with_a_fix(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = home / CLIENT_FILES["cursor"]
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"mcpServers": {"linq-mcp": {"command": str(home / "old-venv/bin/linq-mcp")}}}))
    code, checks = doctor(capsys, "--sandbox")
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["client cursor"])
    assert "linq-mcp install cursor" in checks["client cursor"]["fix"]


def test_installed_clients_are_listed(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run("install", "claude-desktop", "--sandbox")
    capsys.readouterr()
    code, checks = doctor(capsys, "--sandbox")
    assert code == 0
    assert checks["client claude-desktop"]["status"] == "ok"


def test_an_invalid_config_file_fails_with_a_fix(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = home / "linq-mcp.toml"
    config.write_text("[server]\ntoolset = ['messaging']\n")  # a typo: the key is "toolsets"
    code, checks = doctor(capsys, "--config", str(config))
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["configuration"])
    assert "toolset" in checks["configuration"]["detail"]


def test_the_subscription_linq_mcp_set_up_is_checked_and_its_loss_is_a_failure(
    home: Path, sandbox_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINQ_API_V3_API_KEY", DEFAULT_API_KEY)
    base = f"{sandbox_url}/api/partner"
    assert run("webhooks", "setup", "--url", "https://hooks.example.test/webhooks/linq", "--base-url", base) == 0
    capsys.readouterr()
    code, checks = doctor(capsys, "--base-url", base)
    assert code == 0, checks
    assert checks["webhooks"]["status"] == "ok" and "hooks.example.test" in checks["webhooks"]["detail"]
    assert checks["last event"]["detail"].startswith("none yet")

    auth = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    (sub,) = httpx.get(f"{base}/v3/webhook-subscriptions", headers=auth).json()["subscriptions"]
    assert httpx.delete(f"{base}/v3/webhook-subscriptions/{sub['id']}", headers=auth).status_code < 300
    code, checks = doctor(capsys, "--base-url", base)
    assert code == 1
    assert_fails_with_a_one_line_fix(checks["webhooks"])
    assert "webhooks setup" in checks["webhooks"]["fix"]
