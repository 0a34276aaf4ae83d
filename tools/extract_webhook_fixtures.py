"""Extract every webhook example in the OpenAPI ``webhooks`` section into JSON fixtures.

Usage: python tools/extract_webhook_fixtures.py [SPEC_YAML] [OUT_DIR]

Each of the 34 entries (17 event types x 2 payload versions) becomes ``<event>.<v2025|v2026>.json``.
Ten entries carry a literal ``example``; for the rest the payload is assembled from the
``example`` values on the referenced schema and its properties (a literal property
example wins; nullable fields without one become null; an error code without one takes
the first code its description lists). ``_manifest.json`` records which source each
fixture came from, so tests can tell literal examples from assembled ones.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "linq-api" / "openapi-v3.2026-03.yaml"
DEFAULT_OUT = ROOT / "tests" / "webhooks" / "fixtures"
VERSIONS = {"v2025": "2025-01-01", "v2026": "2026-02-03"}
_MISSING = object()


class Synth:
    """Assemble an example value for a schema from the examples the spec gives its parts."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def value(self, node: dict[str, Any]) -> Any:
        if "example" in node:
            return copy.deepcopy(node["example"])
        if "$ref" in node:
            return self.value(self.resolve(node))
        if "allOf" in node:
            merged: Any = _MISSING
            for sub in node["allOf"]:
                v = self.value(sub)
                if v is _MISSING:
                    continue
                if isinstance(v, dict) and isinstance(merged, dict):
                    merged.update(v)
                else:
                    merged = v
            return merged if merged is not _MISSING or not node.get("nullable") else None
        if "oneOf" in node:
            return self.value(node["oneOf"][0])
        if node.get("nullable"):
            return None
        if "enum" in node:
            return node["enum"][0]
        if "default" in node:
            return node["default"]
        if node.get("type") == "array" and "items" in node:
            item = self.value(node["items"])
            return [] if item is _MISSING else [item]
        if node.get("type") == "object" or "properties" in node:
            out: dict[str, Any] = {}
            for name, sub in (node.get("properties") or {}).items():
                v = self.value(sub)
                if v is not _MISSING:
                    out[name] = v
            return out
        if node.get("type") == "integer":
            m = re.search(r"\b(\d{3,5})\b", node.get("description", ""))
            return int(m.group(1)) if m else 0
        return _MISSING


def extract(spec_path: Path, out_dir: Path) -> dict[str, str]:
    spec = yaml.safe_load(spec_path.read_text())
    synth = Synth(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, str] = {}
    for key, item in spec["webhooks"].items():
        media = item["post"]["requestBody"]["content"]["application/json"]
        name, _, suffix = key.rpartition(".")
        if "example" in media:
            payload = copy.deepcopy(media["example"])
            source = "example"
        else:
            payload = synth.value(media["schema"])
            payload["event_type"] = name
            payload["webhook_version"] = VERSIONS[suffix]
            payload["event_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"linq-webhook-fixture:{key}"))
            source = "schema"
        (out_dir / f"{key}.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        manifest[key] = source
    (out_dir / "_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str]) -> int:
    spec = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPEC
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    manifest = extract(spec, out)
    literal = sum(1 for s in manifest.values() if s == "example")
    print(f"wrote {len(manifest)} fixtures to {out} ({literal} literal examples, {len(manifest) - literal} assembled)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
