"""Ways to run the sandbox: the example config is the defaults; the server starts fast."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import linq_mcp.sandbox
from linq_mcp.sandbox.config import DEFAULT_API_KEY, SandboxConfig
from linq_mcp.sandbox.serve import load_config

DEFAULT_TOML = Path(linq_mcp.sandbox.__file__).parent / "default.toml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_default_toml_equals_the_built_in_defaults() -> None:
    assert SandboxConfig.from_toml(DEFAULT_TOML) == SandboxConfig()


def test_seed_flag_overrides_the_config() -> None:
    assert load_config(str(DEFAULT_TOML), seed=42).seed == 42


def test_python_m_serves_the_api_and_prints_url_and_key_to_stderr() -> None:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linq_mcp.sandbox", "--port", str(port), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.strip().endswith(f"http://127.0.0.1:{port}/api/partner")
        assert DEFAULT_API_KEY in proc.stderr.readline()
        body = None
        while time.monotonic() - started < 10:
            try:
                resp = httpx.get(
                    f"http://127.0.0.1:{port}/api/partner/v3/chats",
                    headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
                )
                body = resp.json()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert body == {"chats": [], "next_cursor": None}
        assert elapsed < 3.0  # well under a second on a quiet machine; slack for loaded CI
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_module_imports_lean() -> None:
    code = "import sys, linq_mcp.sandbox.serve; print(any(m.startswith(('linq.', 'mcp')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
