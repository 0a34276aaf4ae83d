"""The compatibility matrix: real agent frameworks and SDK clients against a real linq-mcp.

Collected only when named on the command line (``python -m pytest tests/compat``), so the
README's core test command stays lean: these tests need the ``compat`` extra, a separate
LangChain virtualenv and the npm packages under tests/compat/node (``.ci/run`` builds all
three from the project's own files). Where to find them:

- LINQ_MCP_BIN: the linq-mcp to test (default: the one beside this Python).
- LINQ_MCP_COMPAT_LANGCHAIN_PYTHON: Python of the LangChain virtualenv
  (default: .venv-compat-langchain/bin/python at the repository root).
- tests/compat/node/node_modules: ``npm ci --prefix tests/compat/node``.

linq-mcp runs as a subprocess (stdio, or HTTP on 127.0.0.1), so each client stack may live
in its own virtualenv with its own ``mcp``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import scenario  # noqa: E402

SERVER_ARGS = ["--sandbox", "--toolsets", "all"]  # confirm = "first_contact", the default policy
PYTHON_CLIENTS = ["fastmcp", "openai-agents", "anthropic", "google-genai", "pydantic-ai", "langchain"]
NODE_CLIENTS = ["typescript-sdk-1", "typescript-sdk-2"]
CLIENTS = PYTHON_CLIENTS + NODE_CLIENTS
TRANSPORTS = ["stdio", "http"]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip this folder unless it (or something in it) was asked for by path."""
    for arg in config.args:
        target = Path(arg.split("::")[0]).resolve()
        if target == HERE or HERE in target.parents or (collection_path.resolve() == target):
            return None
    return True


def linq_mcp_bin() -> str:
    found = os.environ.get("LINQ_MCP_BIN") or str(Path(sys.executable).parent / "linq-mcp")
    if not Path(found).exists():
        pytest.fail(
            f"linq-mcp not found at {found}: install the project (pip install -e '.[compat]') or set LINQ_MCP_BIN"
        )
    return found


def langchain_python() -> str:
    found = os.environ.get("LINQ_MCP_COMPAT_LANGCHAIN_PYTHON") or str(
        ROOT / ".venv-compat-langchain" / "bin" / "python"
    )
    if not Path(found).exists():
        pytest.fail(
            f"LangChain's virtualenv not found at {found}: python3 -m venv .venv-compat-langchain && "
            ".venv-compat-langchain/bin/pip install -r tests/compat/requirements-langchain.txt"
        )
    return found


def _env(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env["LINQ_MCP_DATA_DIR"] = data_dir  # a fresh sandbox and ledger: the first contact is a first contact
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpServer:
    """``linq-mcp --transport http`` on a loopback port, up until stopped."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.log = log
        command = [linq_mcp_bin(), *SERVER_ARGS, "--transport", "http", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"linq-mcp over HTTP did not come up: {log.read_text()[-800:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _client_command(client: str) -> list[str]:
    if client in NODE_CLIENTS:
        node_dir = HERE / "node"
        if not (node_dir / "node_modules").is_dir():
            pytest.fail("the TypeScript SDKs are not installed: npm ci --prefix tests/compat/node")
        plan = {
            "calls": scenario.CALLS,
            "first_contact_args": scenario.FIRST_CONTACT_ARGS,
            "token_pattern": scenario._TOKEN.pattern,
        }
        return ["node", str(node_dir / "client.mjs"), "--sdk", client[-1], "--scenario", json.dumps(plan)]
    python = langchain_python() if client == "langchain" else sys.executable
    return [python, str(HERE / "py_clients.py"), client]


def run_client(client: str, transport: str) -> dict[str, Any]:
    """Run one client against a fresh linq-mcp and return its report."""
    work = Path(tempfile.mkdtemp(prefix=f"linq-compat-{client}-{transport}-"))
    env = _env(str(work / "data"))
    server = None
    try:
        command = _client_command(client)
        if transport == "stdio":
            command += ["--stdio", json.dumps([linq_mcp_bin(), *SERVER_ARGS])]
        else:
            server = HttpServer(env, work / "server.log")
            command += ["--http", server.url]
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            pytest.fail(f"{client} over {transport} printed no report (exit {proc.returncode}): {proc.stderr[-1500:]}")
        report: dict[str, Any] = json.loads(lines[-1])
        report["stderr"] = proc.stderr[-3000:]
        return report
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


_reports: dict[tuple[str, str], dict[str, Any]] = {}
_lock = threading.Lock()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def report(client: str, transport: str) -> Iterator[dict[str, Any]]:
    """One run per (client, transport), shared by every test of that pair."""
    with _lock:
        if (client, transport) not in _reports:
            _reports[(client, transport)] = run_client(client, transport)
    yield _reports[(client, transport)]


@pytest.fixture(scope="session")
def tools_of_toolsets_all() -> list[str]:
    """Every tool ``--toolsets all`` serves, as linq-mcp's own table lists them."""
    out = subprocess.run(
        [linq_mcp_bin(), "tools", *SERVER_ARGS, "--json"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return [t["name"] for t in json.loads(out) if t["enabled"]]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With LINQ_MCP_COMPAT_REPORTS=FILE, keep every run's report (docs/clients.md is written from them)."""
    target = os.environ.get("LINQ_MCP_COMPAT_REPORTS")
    if target and _reports:
        runs = [{k: v for k, v in r.items() if k != "stderr"} for r in _reports.values()]
        Path(target).write_text(json.dumps(runs, indent=1))
