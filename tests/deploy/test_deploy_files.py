"""deploy/ is an example that runs: the compose file and the nginx template agree with each other
and with what a hosted replica needs. (No Docker daemon here: .ci/replicas_smoke.py runs the
same nginx template for real, in front of three replicas.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REPLICAS = ("replica1", "replica2", "replica3")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def template() -> str:
    return (DEPLOY / "nginx" / "linq-mcp.conf.template").read_text(encoding="utf-8")


def _location(template: str, path: str) -> str:
    found = re.search(r"location " + re.escape(path) + r" \{(.*?)\n    \}", template, re.S)
    assert found, f"no location {path} in the nginx template"
    return found.group(1)


def test_compose_runs_postgres_three_replicas_and_nginx(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", *REPLICAS, "nginx"}


@pytest.mark.parametrize("replica", REPLICAS)
def test_every_replica_is_stateless_on_the_shared_store_with_the_shared_secret(
    compose: dict[str, Any], replica: str
) -> None:
    service = compose["services"][replica]
    assert service["command"][:3] == ["linq-mcp", "--transport", "http"] and "--stateless" in service["command"]
    env = service["environment"]
    assert env["LINQ_MCP_STORE_URL"].startswith("postgresql://") and "@postgres:" in env["LINQ_MCP_STORE_URL"]
    assert env["LINQ_MCP_SECRET"].startswith("${LINQ_MCP_SECRET:?")  # required, never defaulted
    assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_the_image_builds_from_the_repository_root_with_the_postgresql_driver(compose: dict[str, Any]) -> None:
    build = compose["services"]["replica1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert 'pip install --no-cache-dir ".[postgres]"' in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_nginx_is_given_every_placeholder_of_its_template(compose: dict[str, Any], template: str) -> None:
    nginx = compose["services"]["nginx"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", template))
    assert placeholders == set(nginx["environment"])
    replicas = {v.split(":")[0] for k, v in nginx["environment"].items() if k.startswith("LINQ_MCP_REPLICA_")}
    assert replicas == set(REPLICAS)
    mounted = {volume.split(":")[0] for volume in nginx["volumes"]}
    assert "./nginx/linq-mcp.conf.template" in mounted


def test_mcp_streams_are_neither_buffered_nor_cut_short(template: str) -> None:
    mcp = _location(template, "/mcp")
    assert "proxy_buffering off;" in mcp and "proxy_request_buffering off;" in mcp
    timeout = re.search(r"proxy_read_timeout (\d+)h;", mcp)
    assert timeout and int(timeout.group(1)) >= 1


def test_a_post_that_reached_a_replica_is_never_sent_to_another(template: str) -> None:
    assert "non_idempotent" not in _location(template, "/mcp")


def test_a_webhook_a_replica_cannot_store_is_tried_on_the_next(template: str) -> None:
    hooks = _location(template, "/webhooks/")
    assert re.search(r"proxy_next_upstream [^;]*http_503[^;]*non_idempotent", hooks)
