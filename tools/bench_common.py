"""Shared bits of the benchmark scripts: machine facts, percentiles, tables, results files.

Each ``tools/bench_*.py`` prints a small table and a verdict per target and, with
``--json FILE``, writes the same figures for ``tools/run_benchmarks.py`` to render.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0], "platform": platform.platform()}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def linq_mcp_command() -> list[str]:
    """The installed ``linq-mcp`` console script of this interpreter's environment."""
    script = VENV_BIN / "linq-mcp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "linq_mcp"]


def bare_server_command() -> list[str]:
    return [sys.executable, str(ROOT / "tools" / "bare_server.py")]


@dataclass
class Figure:
    """One row: a measured value, optionally a ratio to a baseline and a target with its verdict."""

    measure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""  # PASS | FAIL | "" (information only)


@dataclass
class Report:
    name: str
    title: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # extra tables: name -> rows (first = header)

    def add(self, *args: Any, **kwargs: Any) -> Figure:
        fig = Figure(*args, **kwargs)
        self.figures.append(fig)
        return fig

    @property
    def passed(self) -> bool:
        return all(f.verdict != "FAIL" for f in self.figures)

    def print(self) -> None:
        m = machine()
        print()
        print(f"{self.title}  (cores: {m['cores']}, cpu: {m['cpu']}, python: {m['python']})")
        rows = [["measure", "value", "baseline", "ratio", "target", "verdict"]]
        rows += [[f.measure, f.value, f.baseline, f.ratio, f.target, f.verdict] for f in self.figures]
        print_table(rows)
        for name, table in self.tables.items():
            print()
            print(name)
            print_table(table)
        for note in self.notes:
            print(f"note: {note}")
        print()
        for f in self.figures:
            if f.verdict:
                print(f"{f.verdict}: {f.measure} = {f.value}{f' ({f.ratio})' if f.ratio else ''}, target {f.target}")
        print(f"verdict: {'every target met' if self.passed else 'a target was missed'}")

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False))


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
