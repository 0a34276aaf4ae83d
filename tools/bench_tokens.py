"""Tokens of linq-mcp's ``tools/list`` versus a naive OpenAPI → MCP conversion.

Fetches the real ``tools/list`` result over stdio from ``linq-mcp --sandbox`` (default
toolsets) and from ``linq-mcp --sandbox --toolsets all,payments,deprecated --allow-payment-credentials``, and
counts o200k_base tokens of the compact JSON (``{"tools": [...]}``, no spaces) with
``bpe-openai`` (offline). The yardstick is ``tools/naive_openapi.py``: the same 70
operations converted naively (all params and body properties, refs inlined, full
descriptions, output schema = the full success response schema).

    .venv/bin/python tools/bench_tokens.py

Targets: default toolsets ≤ 5,000 tokens; all tools ≤ 0.25× the naive conversion.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import Report, linq_mcp_command, verdict  # noqa: E402
from bench_startup import INIT, INITIALIZED, LIST, Reader, line  # noqa: E402
from naive_openapi import naive_tools  # noqa: E402

TARGET_DEFAULT = 5000
TARGET_RATIO = 0.25


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def fetch_tools_list(args: list[str]) -> dict[str, Any]:
    """The ``tools/list`` result exactly as the server put it on the wire."""
    tmp = tempfile.mkdtemp(prefix="linq-bench-tokens-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env.update(TMPDIR=tmp, LINQ_MCP_DATA_DIR=tmp)
    proc = subprocess.Popen(
        linq_mcp_command() + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert proc.stdin and proc.stdout
    try:
        proc.stdin.write(line(INIT))
        proc.stdin.flush()
        reader = Reader(proc.stdout.fileno())
        reader.until_id(1, time.monotonic() + 30)
        proc.stdin.write(line(INITIALIZED) + line(LIST))
        proc.stdin.flush()
        msg, _ = reader.until_id(2, time.monotonic() + 30)
        return dict(msg["result"])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


SAFETY_PARAMS = ("confirm_token", "dry_run", "idempotency_key", "override_optout")


def breakdown(tools: list[dict[str, Any]], count: Any) -> list[list[str]]:
    rows = [["part", "tokens", "tools with it"]]
    for field in ("name", "title", "description", "annotations", "inputSchema", "outputSchema"):
        present = [t[field] for t in tools if t.get(field)]
        rows.append([field, f"{sum(count(v) for v in present):,}", str(len(present))])
    defs = [t["inputSchema"]["$defs"] for t in tools if t["inputSchema"].get("$defs")]
    rows.append(["  inputSchema $defs (shared message/handle types, repeated per tool)", f"{sum(count(d) for d in defs):,}", str(len(defs))])
    safety = [
        {k: v for k, v in t["inputSchema"].get("properties", {}).items() if k in SAFETY_PARAMS} for t in tools
    ]
    safety = [s for s in safety if s]
    rows.append([f"  inputSchema send-safety params ({', '.join(SAFETY_PARAMS)})", f"{sum(count(s) for s in safety):,}", str(len(safety))])
    trivial = [t["outputSchema"] for t in tools if t.get("outputSchema") and count(t["outputSchema"]) <= 30]
    rows.append(["  outputSchema of ≤ 30 tokens (little for a client to check)", f"{sum(count(o) for o in trivial):,}", str(len(trivial))])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()

    import bpe_openai

    enc = bpe_openai.get_encoding("o200k_base")

    def count(obj: Any) -> int:
        return len(enc.encode(compact(obj)))

    default = fetch_tools_list(["--sandbox"])
    everything = fetch_tools_list(
        ["--sandbox", "--toolsets", "all,payments,deprecated", "--allow-payment-credentials"]
    )
    with_v2 = fetch_tools_list(["--sandbox", "--toolsets", "default,v2"])
    v2_only = fetch_tools_list(["--sandbox", "--toolsets", "v2"])
    naive = {"tools": naive_tools()}
    naive_no_out = {"tools": naive_tools(output_schema=False)}

    n_default, n_all, n_naive = count(default), count(everything), count(naive)
    n_naive_no_out = count(naive_no_out)
    all_no_out = {"tools": [{k: v for k, v in t.items() if k != "outputSchema"} for t in everything["tools"]]}
    n_all_no_out = count(all_no_out)

    report = Report("tokens", "Tokens of tools/list (o200k_base, compact JSON)", "tools/bench_tokens.py")
    report.add(
        f"default toolsets ({len(default['tools'])} tools)",
        f"{n_default:,}",
        target=f"≤ {TARGET_DEFAULT:,}",
        verdict=verdict(n_default <= TARGET_DEFAULT),
    )
    # The legacy V2 toolset is opt-in: it never reaches the default list, and costs this when named.
    report.add(f"default,v2 ({len(with_v2['tools'])} tools; v2 is opt-in)", f"{count(with_v2):,}")
    report.add(f"v2 alone ({len(v2_only['tools'])} tools)", f"{count(v2_only):,}")
    ratio = n_all / n_naive
    report.add(
        f"all tools ({len(everything['tools'])}) vs naive ({len(naive['tools'])} operations)",
        f"{n_all:,}",
        f"{n_naive:,}",
        f"{ratio:.3f}×",
        f"≤ {TARGET_RATIO}× naive",
        verdict(ratio <= TARGET_RATIO),
    )
    report.add(
        "all tools vs naive, both without outputSchema",
        f"{n_all_no_out:,}",
        f"{n_naive_no_out:,}",
        f"{n_all_no_out / n_naive_no_out:.3f}×",
    )
    per_tool = sorted(((count(t), t["name"]) for t in everything["tools"]), reverse=True)
    naive_by_name = {t["name"]: count(t) for t in naive["tools"]}
    report.tables["top 10 tools by tokens (all tools; the naive tool of the same operation beside it)"] = [
        ["tool", "tokens", "of which outputSchema", "naive"]
    ] + [
        [
            name,
            f"{n:,}",
            f"{count(next(t for t in everything['tools'] if t['name'] == name).get('outputSchema') or {}):,}",
            f"{naive_by_name[name]:,}" if name in naive_by_name else "—",
        ]
        for n, name in per_tool[:10]
    ]
    report.tables[f"where the default set's {n_default:,} tokens go (each part counted alone)"] = breakdown(
        default["tools"], count
    )
    report.notes.append(
        "default = `linq-mcp --sandbox`; "
        "all = `linq-mcp --sandbox --toolsets all,payments,deprecated --allow-payment-credentials` "
        "(`all` leaves out the opt-in payments, deprecated and v2); v2 = `--toolsets v2` / `default,v2`; "
        "naive = tools/naive_openapi.py over linq_mcp/spec/linq-v3.openapi.json; counted with bpe-openai o200k_base"
    )
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
