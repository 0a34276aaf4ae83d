"""Rebuild linq_mcp/spec/catalog.json, the precompiled tool catalog read at start-up.

Run after changing a spec (tools/sync_spec.py, tools/build_v2_spec.py), the tool facts (linq_mcp/spec/tools.toml) or the
compiler (linq_mcp/tools/catalog.py):

    python tools/build_catalog.py          # rewrite
    python tools/build_catalog.py --check  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from linq_mcp.tools.catalog import SPEC_RESOURCES, catalog_to_json, compile_catalog, sources_digest

SPEC_DIR = Path(__file__).resolve().parents[1] / "linq_mcp" / "spec"


def build() -> str:
    spec_bytes = [(SPEC_DIR / name).read_bytes() for name in SPEC_RESOURCES]
    facts_bytes = (SPEC_DIR / "tools.toml").read_bytes()
    catalog = compile_catalog([json.loads(chunk) for chunk in spec_bytes], tomllib.loads(facts_bytes.decode("utf-8")))
    data = catalog_to_json(catalog, sources_digest(spec_bytes, facts_bytes))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if catalog.json is stale")
    args = parser.parse_args()
    target = SPEC_DIR / "catalog.json"
    fresh = build()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != fresh:
            print("linq_mcp/spec/catalog.json is stale: run python tools/build_catalog.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(fresh, encoding="utf-8")
    print(f"wrote {target} ({len(fresh) // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
