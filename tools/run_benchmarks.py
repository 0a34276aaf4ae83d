"""Run every benchmark and rewrite ``docs/benchmarks.md`` with the figures.

Each ``tools/bench_*.py`` runs alone in its own process (one after the other, so they
never compete for the 2 cores) and writes its figures as JSON; ``bench_webhooks.py``
(the webhook receiver's own benchmark) is run as is and its verdict lines are read
from its output. The document records the machine, the date and this exact command.

    .venv/bin/python tools/run_benchmarks.py [--only startup,tokens] [--no-write]

Exit status: 0 when every target is met, 1 otherwise (the document is written anyway).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ROOT, machine  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
# name, script arguments, timeout (s)
BENCHES: list[tuple[str, list[str], float]] = [
    ("startup", ["bench_startup.py", "--runs", "10", "--profile"], 170),
    ("tokens", ["bench_tokens.py"], 60),
    ("calls", ["bench_calls.py", "--calls", "1000"], 90),
    ("http", ["bench_http.py", "--seconds", "8", "--rounds", "2"], 170),
    ("http-raw", ["bench_http.py", "--seconds", "8", "--rounds", "1", "--client", "raw"], 110),
    ("webhooks", ["bench_webhooks.py", "--seconds", "8", "--latency-seconds", "8"], 120),
    ("events", ["bench_events.py", "--events", "100"], 90),
    ("faults", ["bench_faults.py", "--sends", "1000"], 170),
]
TARGETS = {
    "startup": "spawn → initialize and spawn → tools/list ≤ 1.1× a bare mcp server (median of ≥ 10, interleaved); idle RSS ≤ 100 MB",
    "tokens": "default toolsets ≤ 5,000 o200k tokens; all tools ≤ 0.25× a naive OpenAPI → MCP conversion",
    "calls": "p50 overhead of an MCP tool call over the same raw httpx request ≤ 2 ms",
    "http": "stateless JSON Streamable HTTP, 32 clients: ≥ 0.8× the bare server's throughput, p99 ≤ 100 ms",
    "http-raw": "the same, with a load generator cheap enough not to be the bottleneck",
    "webhooks": "≥ 3,000 events/s verified + committed; ack p99 ≤ 20 ms at 200 events/s",
    "events": "webhook → notifications/resources/updated p50 ≤ 20 ms",
    "faults": "1,000 sends, 30 % injected faults of every kind: 0 duplicates, 0 lost",
}


def run_webhooks(args: list[str], timeout: float) -> dict:
    """bench_webhooks.py has its own output; turn its table and verdict lines into figures."""
    cmd = [sys.executable, str(ROOT / "tools" / args[0]), *args[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    figures, rows = [], [["measure", "value"]]
    for line in proc.stdout.splitlines():
        m = re.match(r"^(PASS|FAIL): (.*)$", line) or re.match(r"^(.*?): (PASS|FAIL) \((.*)\)$", line)
        if re.match(r"^.*: (PASS|FAIL)( \(.*\))?$", line):
            name, rest = line.split(": ", 1)
            verdict_word = rest.split(" ", 1)[0]
            value = rest[len(verdict_word) :].strip(" ()")
            figures.append({"measure": name, "value": value, "baseline": "", "ratio": "", "target": name, "verdict": verdict_word})
        elif m is None and re.match(r"^\S.*\s{2,}\S+$", line) and not line.startswith(("measure", "-")):
            label, value = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            rows.append([label, value])
    if proc.returncode not in (0, 1) or not figures:
        figures.append({"measure": "bench_webhooks.py ran", "value": f"exit {proc.returncode}", "baseline": "", "ratio": "", "target": "exit 0", "verdict": "FAIL"})
    return {
        "name": "webhooks",
        "title": "Webhook receiver over loopback HTTP (tools/bench_webhooks.py, by the webhooks work)",
        "command": "tools/" + " ".join(args),
        "figures": figures,
        "notes": [],
        "tables": {"detail": rows},
    }


def run_one(name: str, args: list[str], timeout: float) -> tuple[dict, float]:
    t0 = time.monotonic()
    if name == "webhooks":
        return run_webhooks(args, timeout), time.monotonic() - t0
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, str(ROOT / "tools" / args[0]), *args[1:], "--json", out.name]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
            data = json.loads(Path(out.name).read_text() or "null")
        except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            proc, data = None, None
            err = str(exc)
        if data is None:
            detail = (proc.stderr[-600:] if proc else err).strip()
            data = {
                "name": name,
                "title": name,
                "command": "tools/" + " ".join(args),
                "figures": [{"measure": "benchmark ran", "value": "error", "baseline": "", "ratio": "", "target": "ran", "verdict": "FAIL"}],
                "notes": [detail],
                "tables": {},
            }
        data["command"] = "tools/" + " ".join(args)
        data["name"] = name
    return data, time.monotonic() - t0


def md_table(rows: list[list[str]]) -> list[str]:
    esc = [[str(c).replace("|", "\\|") for c in r] for r in rows]
    out = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])]
    out += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return out


def render(results: list[tuple[dict, float]], command: str, total: float) -> str:
    m = machine()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "Generated by `tools/run_benchmarks.py`; do not edit by hand — rerun it. Every comparison is a ratio",
        "measured side by side in the same run (runs interleaved where there is a baseline). Each script also runs",
        "alone and prints the same table: `.venv/bin/python tools/bench_<name>.py --help`.",
        "",
        f"- **Command:** `{command}`",
        f"- **Date:** {now}; whole run {total:.0f} s",
        f"- **Machine:** {m['cores']} cores, {m['cpu']}, Python {m['python']}, {m['platform']}",
        "- Everything runs on 127.0.0.1 against the embedded sandbox; no network.",
        "",
        "## Summary",
        "",
    ]
    summary = [["benchmark", "measure", "value", "baseline", "ratio", "target", "verdict"]]
    for data, _ in results:
        for f in data["figures"]:
            if f["verdict"]:
                summary.append([data["name"], f["measure"], f["value"], f["baseline"], f["ratio"], f["target"], f"**{f['verdict']}**"])
    lines += md_table(summary)
    for data, seconds in results:
        lines += ["", f"## {data['name']}: {data['title']}", ""]
        if data["name"] in TARGETS:
            lines += [f"Target: {TARGETS[data['name']]}.", ""]
        lines += [f"`.venv/bin/python {data['command']}` ({seconds:.0f} s)", ""]
        lines += md_table([["measure", "value", "baseline", "ratio", "target", "verdict"]] + [
            [f["measure"], f["value"], f["baseline"], f["ratio"], f["target"], f["verdict"]] for f in data["figures"]
        ])
        for name, table in data.get("tables", {}).items():
            if len(table) > 1:
                lines += ["", f"*{name}*", ""] + md_table(table)
        for note in data.get("notes", []):
            lines += ["", f"Note: {note}"]
    lines += ["", "## Findings", "", FINDINGS_MARK, ""]
    return "\n".join(lines) + "\n"


FINDINGS_MARK = "<!-- findings: kept from the previous version of this file -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated subset: " + ",".join(n for n, _, _ in BENCHES))
    parser.add_argument("--no-write", action="store_true", help="print, do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    command = ".venv/bin/python tools/run_benchmarks.py" + (f" --only {args.only}" if args.only else "")
    t0 = time.monotonic()
    results = []
    for name, bench_args, timeout in BENCHES:
        if wanted and name not in wanted:
            continue
        print(f"== {name}: tools/{' '.join(bench_args)}", flush=True)
        data, seconds = run_one(name, bench_args, timeout)
        for f in data["figures"]:
            if f["verdict"]:
                print(f"   {f['verdict']}: {f['measure']} = {f['value']}{' (' + f['ratio'] + ')' if f['ratio'] else ''}")
        print(f"   ({seconds:.0f} s)", flush=True)
        results.append((data, seconds))
    total = time.monotonic() - t0
    text = render(results, command, total)
    # Keep the hand-written findings (everything after the marker) across reruns.
    if DOC.exists() and FINDINGS_MARK in DOC.read_text():
        text = text.split(FINDINGS_MARK)[0] + FINDINGS_MARK + DOC.read_text().split(FINDINGS_MARK, 1)[1]
    if not args.no_write:
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)} ({total:.0f} s)")
    failed = [f for d, _ in results for f in d["figures"] if f["verdict"] == "FAIL"]
    print(f"benchmarks: {'every target met' if not failed else f'{len(failed)} target(s) missed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
