"""The package imports only its declared runtime dependencies (tests install more, users don't)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "linq_mcp"
# Declared in pyproject (and what they bring: mcp ships mcp_types, starlette, httpx2, sse_starlette).
ALLOWED = {"mcp", "mcp_types", "httpx", "httpx2", "pydantic", "anyio", "jsonschema", "phonenumbers", "uvicorn"}
ALLOWED |= {"starlette", "uvloop", "httptools", "linq_mcp"}
# Imported only on a code path that cannot run without them (trio under anyio's trio backend; psycopg
# and its pool, the 'postgres' extra, only when --store names a PostgreSQL URL: linq_mcp/store/__init__.py).
OPTIONAL = {"trio", "psycopg", "psycopg_pool"}


def third_party_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_only_runtime_dependencies_are_imported() -> None:
    extra = {name: files for name, files in third_party_imports().items() if name not in ALLOWED | OPTIONAL}
    assert not extra, f"imports outside the runtime dependencies: {extra}"
