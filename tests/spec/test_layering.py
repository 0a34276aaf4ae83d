"""Who may import what: the safety policy and the tool registry never load what sends.

Each check runs in a fresh interpreter, so modules another test imported do not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What sends: an HTTP client library, linq-mcp's client, and the call pipeline that drives it.
SENDING = ("httpx", "httpx2", "linq_mcp.api.client", "linq_mcp.tools.pipeline")


def loaded_by(*modules: str) -> set[str]:
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    for info in pkgutil.iter_modules(getattr(module, '__path__', [])):\n"
        "        importlib.import_module(f'{name}.{info.name}')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def sending(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == s or m.startswith(s + ".") for s in SENDING))


@pytest.mark.parametrize(
    "package",
    ["linq_mcp.policy", "linq_mcp.tools.registry", "linq_mcp.tools.catalog", "linq_mcp.api.request"],
)
def test_imports_nothing_that_sends(package: str) -> None:
    assert sending(loaded_by(package)) == []


def test_the_safety_gate_holds_no_client_and_no_pipeline() -> None:
    loaded = loaded_by("linq_mcp.tools.guard")
    assert {"linq_mcp.api.client", "linq_mcp.tools.pipeline"} & loaded == set()
