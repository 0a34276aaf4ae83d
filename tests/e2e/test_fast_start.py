"""A stdio server answers initialize and tools/list without importing what only a call needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# The real command, with the background warm-up pushed out of the way, reporting its modules at exit.
HARNESS = """
import atexit, json, sys
import linq_mcp.server.app as app
app.WARM_UP_DELAY = 3600.0
atexit.register(lambda: sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
from linq_mcp.cli.main import main
sys.exit(main(["--sandbox"]))
"""
REQUESTS = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]
# Each is needed only once a tool is called (the runtime opens then, or on the warm-up).
NOT_BEFORE_A_CALL = [
    "httpx",
    "sqlite3",
    "linq_mcp.api.client",
    "linq_mcp.sandbox",
    "linq_mcp.store.sqlite",
    "linq_mcp.store.postgres",
    "psycopg",
    "linq_mcp.webhooks",
    "linq_mcp.policy.engine",
    "linq_mcp.events.hub",
]


def test_initialize_and_tools_list_import_no_client_sandbox_or_store() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", HARNESS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("".join(json.dumps(r) + "\n" for r in REQUESTS))
    proc.stdin.flush()
    answers = [json.loads(proc.stdout.readline()) for _ in range(2)]
    proc.stdin.close()  # end of input: the server exits and the harness reports its modules
    proc.wait(timeout=60)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert [a["id"] for a in answers] == [1, 2] and answers[1]["result"]["tools"]
    [line] = [ln for ln in stderr.splitlines() if ln.startswith("MODULES ")]
    loaded = set(json.loads(line.removeprefix("MODULES ")))
    early = [name for name in NOT_BEFORE_A_CALL if any(m == name or m.startswith(name + ".") for m in loaded)]
    assert early == []
