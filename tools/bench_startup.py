"""Cold start over stdio: linq-mcp versus a bare ``mcp`` server with one tool.

For each run, spawn the server, write ``initialize`` at once (the pipe buffers it), time
the ``initialize`` result, then send ``notifications/initialized`` + ``tools/list`` and
time that result — both from the spawn. Raw subprocess and JSON-RPC lines, no SDK on
the measuring side. Runs alternate between the two servers (one warm-up each), median
of ``--runs``. Afterwards: linq-mcp's idle RSS (VmRSS) a moment after it answered.

    .venv/bin/python tools/bench_startup.py [--runs 12] [--profile]

Targets: spawn→initialize and spawn→tools/list ≤ 1.1× the bare server; idle RSS ≤ 100 MB.
``--profile`` adds ``-X importtime`` of a server start and prints the costliest imports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import Report, bare_server_command, linq_mcp_command, median, verdict  # noqa: E402

TARGET_RATIO = 1.1
TARGET_RSS_MB = 100.0
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def line(msg: dict) -> bytes:
    return (json.dumps(msg) + "\n").encode()


class Reader:
    """Reads newline-delimited JSON-RPC from a pipe with a deadline (no threads)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def until_id(self, want: int, deadline: float) -> tuple[dict, float]:
        while True:
            while b"\n" in self.buf:
                raw, self.buf = self.buf.split(b"\n", 1)
                if raw.strip():
                    msg = json.loads(raw)
                    if msg.get("id") == want:
                        return msg, time.perf_counter()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no response to id {want}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("server closed stdout")
                self.buf += chunk


def run_once(cmd: list[str], env: dict[str, str], keep: float = 0.0) -> dict[str, float | dict]:
    """One cold start; returns ms to initialize, ms to tools/list, and (if keep) idle RSS in MB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin and proc.stdout
    try:
        proc.stdin.write(line(INIT))
        proc.stdin.flush()
        reader = Reader(proc.stdout.fileno())
        deadline = time.monotonic() + 30
        init, t_init = reader.until_id(1, deadline)
        if "result" not in init:
            raise RuntimeError(f"initialize failed: {init}")
        proc.stdin.write(line(INITIALIZED) + line(LIST))
        proc.stdin.flush()
        listed, t_list = reader.until_id(2, deadline)
        out: dict[str, float | dict] = {
            "init_ms": (t_init - t0) * 1000,
            "list_ms": (t_list - t0) * 1000,
            "tools": float(len(listed["result"]["tools"])),
        }
        if keep:
            time.sleep(keep)
            status = Path(f"/proc/{proc.pid}/status").read_text()
            out["rss_mb"] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        return out
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def importtime_profile(cmd: list[str], env: dict[str, str], top: int = 15) -> list[list[str]]:
    """``-X importtime`` of one real server start (stdio, answered initialize): the top imports."""
    py_cmd = [sys.executable, "-X", "importtime", "-c", "import sys; from linq_mcp.cli.main import main; sys.exit(main())"]
    py_cmd += cmd[1:] if cmd[0].endswith("linq-mcp") else cmd[3:]
    with tempfile.TemporaryFile() as errfile:  # a file, not a pipe: importtime writes more than a pipe holds
        proc = subprocess.Popen(py_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errfile, env=env)
        assert proc.stdin and proc.stdout
        proc.stdin.write(line(INIT))
        proc.stdin.flush()
        Reader(proc.stdout.fileno()).until_id(1, time.monotonic() + 30)
        proc.communicate(timeout=10)
        errfile.seek(0)
        err = errfile.read()
    rows: list[tuple[int, int, str]] = []
    for raw in err.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", raw)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(4)))
    total = sum(r[0] for r in rows)
    by_pkg: dict[str, int] = {}
    for self_us, _, name in rows:
        pkg = name.split(".")[0]
        by_pkg[pkg] = by_pkg.get(pkg, 0) + self_us
    table = [["package (self time, all its modules)", "ms", "share"]]
    for pkg, us in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:top]:
        table.append([pkg, f"{us / 1000:.0f}", f"{us / total:.0%}"])
    table.append([f"all imports ({len(rows)} modules)", f"{total / 1000:.0f}", "100%"])
    return table


PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import mcp.server.stdio, mcp.server, mcp.types  # what the bare server imports too
t1 = time.perf_counter()
import linq_mcp.cli.main, linq_mcp.server.app, linq_mcp.server.transports, linq_mcp.server.handlers  # linq-mcp's stdio start path
t2 = time.perf_counter()
import anyio
from linq_mcp.config.settings import Settings
from linq_mcp.server.app import assembled, surface
from linq_mcp.server.handlers import build_deferred_server
settings = Settings(sandbox=True, toolsets=("all",))
a = time.perf_counter(); shown = surface(settings); b = time.perf_counter()
build_deferred_server(shown, None).create_initialization_options(); c = time.perf_counter()
out = {}
async def go():
    d = time.perf_counter()
    async with assembled(settings):
        out["open"] = time.perf_counter() - d
anyio.run(go)
print(json.dumps({"import mcp (as the bare server)": t1 - t0, "import linq_mcp serving path": t2 - t1,
  "surface: catalog + tool list from settings": b - a, "build the server": c - b,
  "after tools/list: open the runtime (sandbox, stores, receivers; imports included)": out["open"]}))
"""


def phase_profile(env: dict[str, str], runs: int = 3) -> list[list[str]]:
    """Wall time of each phase of a sandbox start, in a fresh process (median of ``runs``)."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES], env=env, capture_output=True, timeout=60, check=True)
        samples.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
    table = [["phase (fresh process, bytecode cached)", "ms (median)"]]
    for key in samples[0]:
        table.append([key, f"{median([s[key] for s in samples]) * 1000:.0f}"])
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="also profile linq-mcp's imports (-X importtime)")
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="linq-bench-startup-")
    # The sandbox makes a throwaway database under TMPDIR on each start: keep them in ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TMPDIR=tmp, LINQ_MCP_DATA_DIR=tmp)
    # Measure as installed: bytecode cached. (Some environments set PYTHONDONTWRITEBYTECODE, which
    # makes every start recompile linq_mcp from source.) A private cache keeps the checkout clean;
    # the warm-up runs fill it for both servers.
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    linq = linq_mcp_command() + ["--sandbox", "--toolsets", "all"]
    bare = bare_server_command()
    try:
        for _ in range(2):  # warm-ups: page cache, .pyc
            run_once(linq, env)
            run_once(bare, env)
        res: dict[str, list[dict]] = {"linq": [], "bare": []}
        t_end = time.monotonic() + 150
        for i in range(args.runs):
            order = [("linq", linq), ("bare", bare)] if i % 2 == 0 else [("bare", bare), ("linq", linq)]
            for name, cmd in order:
                res[name].append(run_once(cmd, env))
            if time.monotonic() > t_end and i >= 9:
                break
        rss = run_once(linq, env, keep=1.0)["rss_mb"]
        rss_bare = run_once(bare, env, keep=1.0)["rss_mb"]
        profile = importtime_profile(linq, env) if args.profile else None
        phases = phase_profile(env) if args.profile else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(res["linq"])
    report = Report(
        "startup",
        "Cold start over stdio (spawn → result), median of interleaved runs",
        "tools/bench_startup.py" + (" --profile" if args.profile else ""),
    )
    for key, label in (("init_ms", "spawn → initialize result"), ("list_ms", "spawn → tools/list result")):
        lm = median([r[key] for r in res["linq"]])  # type: ignore[misc]
        bm = median([r[key] for r in res["bare"]])  # type: ignore[misc]
        ratio = lm / bm
        report.add(
            f"{label} (n={n})",
            f"{lm:.0f} ms",
            f"{bm:.0f} ms",
            f"{ratio:.2f}×",
            f"≤ {TARGET_RATIO}× bare",
            verdict(ratio <= TARGET_RATIO),
        )
        report.add(f"{label}: linq-mcp minus bare", f"{lm - bm:.0f} ms")
    report.add("idle RSS after start", f"{rss:.1f} MB", f"{rss_bare:.1f} MB", f"{rss / rss_bare:.2f}×", f"≤ {TARGET_RSS_MB:.0f} MB", verdict(rss <= TARGET_RSS_MB))  # type: ignore[operator]
    tools = int(res["linq"][0]["tools"])  # type: ignore[arg-type]
    report.notes.append(
        f"linq-mcp = `linq-mcp --sandbox --toolsets all` ({tools} tools); bare = tools/bare_server.py "
        "(the mcp low-level Server, one echo tool, stdio)"
    )
    report.notes.append("both run with bytecode cached (PYTHONPYCACHEPREFIX in a temp dir, filled by warm-up runs)")
    report.tables["runs (ms, init / tools/list)"] = [["server", "runs"]] + [
        [name, ", ".join(f"{r['init_ms']:.0f}/{r['list_ms']:.0f}" for r in res[name])] for name in ("linq", "bare")
    ]
    if phases:
        report.tables["where linq-mcp's start goes: phases"] = phases
    if profile:
        report.tables["where linq-mcp's start goes: -X importtime of a real start, self time by package"] = profile
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
