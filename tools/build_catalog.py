"""Rebuild linq_mcp/spec/catalog.json, the precompiled tool catalog read at start-up.

Run after changing the spec (tools/sync_spec.py) or the compiler (linq_mcp/tools/catalog.py):

    python tools/build_catalog.py          # rewrite
    python tools/build_catalog.py --check  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from linq_mcp.tools.catalog import catalog_to_json, compile_catalog

SPEC_DIR = Path(__file__).resolve().parents[1] / "linq_mcp" / "spec"


def build() -> str:
    spec_bytes = (SPEC_DIR / "linq-v3.openapi.json").read_bytes()
    catalog = compile_catalog(json.loads(spec_bytes))
    data = catalog_to_json(catalog, hashlib.sha256(spec_bytes).hexdigest())
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
