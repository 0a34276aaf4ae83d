"""Each package's ``__init__`` names what it offers: a tested ``__all__``, loaded lazily."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "linq_mcp"
PACKAGES = ["api", "cli", "config", "events", "policy", "sandbox", "server", "store", "tools", "webhooks"]


def typed_exports(package: str) -> dict[str, str]:
    """What the package offers, by defining module: what its ``__init__`` imports from ``linq_mcp``
    (in an ``if TYPE_CHECKING:`` block when loaded lazily) and the functions and classes it defines."""
    name = f"linq_mcp.{package}"
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8"))
    found: dict[str, str] = {}
    statements: list[ast.stmt] = []
    for node in tree.body:
        is_guard = isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        statements += node.body if isinstance(node, ast.If) and is_guard else [node]
    for statement in statements:
        if isinstance(statement, ast.ImportFrom) and (statement.module or "").startswith(name + "."):
            for alias in statement.names:
                found[alias.asname or alias.name] = str(statement.module)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not statement.name.startswith("_"):
                found[statement.name] = name
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_exactly_what_the_package_exports(package: str) -> None:
    module = importlib.import_module(f"linq_mcp.{package}")
    assert module.__all__, "an explicit, non-empty __all__"
    assert len(set(module.__all__)) == len(module.__all__)
    assert set(module.__all__) == set(typed_exports(package))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_the_object_its_module_defines(package: str) -> None:
    module = importlib.import_module(f"linq_mcp.{package}")
    for name, source in typed_exports(package).items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name


@pytest.mark.parametrize("package", PACKAGES)
def test_no_exported_name_is_also_a_submodule_name(package: str) -> None:
    """Importing ``pkg.x`` binds ``pkg.x`` to the module, so a lazily exported ``x`` would be shadowed."""
    submodules = {p.stem for p in (PACKAGE / package).iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert set(typed_exports(package)) & submodules == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_a_name_the_package_does_not_export_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(f"linq_mcp.{package}")
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_importing_every_package_loads_nothing_heavy() -> None:
    """The exports are lazy: touching a package does not import httpx, a web stack, a database driver,
    the sandbox or the client."""
    code = (
        f"import json, sys\nfor p in {PACKAGES!r}: __import__('linq_mcp.' + p)\nprint(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    heavy = ("httpx", "starlette", "uvicorn", "psycopg", "sqlite3", "jsonschema", "phonenumbers")
    ours = ("linq_mcp.sandbox.", "linq_mcp.api.", "linq_mcp.server.", "linq_mcp.tools.", "linq_mcp.webhooks.")
    assert [m for m in loaded if m.split(".")[0] in heavy or m.startswith(ours)] == []
