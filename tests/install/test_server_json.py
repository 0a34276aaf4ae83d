"""``server.json`` for the MCP registry validates against the registry's published schema."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import linq_mcp
from linq_mcp.config.credentials import ENV_KEYS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tools" / "schemas" / "mcp-registry-server-2025-12-11.schema.json"
PUBLISHED_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"


def server_json() -> dict[str, Any]:
    data = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_the_vendored_schema_is_the_published_file() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == PUBLISHED_SHA256


def test_server_json_validates_against_the_schema_it_names() -> None:
    data = server_json()
    assert data["$schema"] == json.loads(SCHEMA.read_text())["$id"]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(data)]
    assert errors == []


def test_server_json_has_a_package_and_a_remote_entry() -> None:
    data = server_json()
    (package,) = data["packages"]
    assert (package["registryType"], package["identifier"]) == ("pypi", "linq-mcp")
    assert package["transport"] == {"type": "stdio"}
    assert data["remotes"][0]["type"] == "streamable-http"


def test_versions_agree_with_the_package() -> None:
    data = server_json()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["version"] == data["packages"][0]["version"] == pyproject["project"]["version"] == linq_mcp.__version__


def test_the_secret_variable_is_the_one_linq_mcp_reads_and_is_marked_secret() -> None:
    (key,) = [v for v in server_json()["packages"][0]["environmentVariables"] if v.get("isSecret")]
    assert key["name"] in ENV_KEYS


@pytest.mark.parametrize(
    ("field", "value"),
    [("description", "x" * 101), ("name", "no-slash"), ("version", None)],
)
def test_the_schema_rejects_what_the_registry_rejects(field: str, value: object) -> None:
    data = server_json()
    if value is None:
        del data[field]
    else:
        data[field] = value
    assert not validator().is_valid(data)
