"""The precompiled catalog read at start-up is exactly what the compiler makes of the spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from linq_mcp.tools.catalog import catalog_from_json, compile_catalog, load_catalog, load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_catalog_json_is_fresh() -> None:
    proc = subprocess.run([sys.executable, "tools/build_catalog.py", "--check"], cwd=ROOT, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def test_loaded_catalog_equals_a_fresh_compilation() -> None:
    assert load_catalog() == compile_catalog(load_spec())


def test_round_trip_keeps_every_operation() -> None:
    compiled = json.loads((ROOT / "linq_mcp" / "spec" / "catalog.json").read_text())
    assert len(catalog_from_json(compiled).operations) == 70
