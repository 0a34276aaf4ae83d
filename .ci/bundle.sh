#!/usr/bin/env bash
# CI: the Claude Desktop bundle and the MCP registry entry.
#  1. tools/build_mcpb.py stages dist/linq-mcp-<version>.mcpb, validates and packs it with the
#     official @anthropic-ai/mcpb CLI (npm, pinned in the script), then unpacks it into a clean
#     directory and serves from it over stdio (initialize + tools/list) with nothing else importable;
#  2. server.json is validated against the registry's published schema (vendored in tools/schemas/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}

"$PY" tools/build_mcpb.py --check

"$PY" - <<'PY'
import json, pathlib, jsonschema
schema = json.loads(pathlib.Path("tools/schemas/mcp-registry-server-2025-12-11.schema.json").read_text())
data = json.loads(pathlib.Path("server.json").read_text())
assert data["$schema"] == schema["$id"], "server.json names another schema than the vendored one"
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
for e in errors:
    print(f"server.json {list(e.absolute_path)}: {e.message}")
raise SystemExit(1 if errors else 0)
PY
echo "CI bundle verdict: OK — .mcpb built, validated and packed by the official CLI, served from a clean unpack; server.json valid"
