"""The webhook route of a ``--sandbox`` HTTP server: a delivery needs a secret nobody can predict,
and the route answers only the Hosts and Origins ``/mcp`` answers (DNS rebinding)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from e2e_helpers import http_server
from events_helpers import SECRET, settings_for, signed_delivery

from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.server.app import assembled


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"host": "evil.example"}, 421), ({"host": "evil.example:80"}, 421), ({"origin": "http://evil.example"}, 403)],
)
async def test_a_signed_delivery_through_a_foreign_host_or_origin_is_refused(
    sandbox: Sandbox, tmp_path: Path, headers: dict[str, str], status: int
) -> None:
    settings = settings_for(tmp_path / "db.sqlite3", transport="http", webhook_secrets=(SECRET,))
    body, signed, event_id = signed_delivery("chat-rebound", "hi from a rebound page")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient(trust_env=False) as http:
            refused = await http.post(f"{base}/webhooks/linq", content=body,
                                      headers={**signed, **headers})  # fmt: skip
            health = await http.get(f"{base}/healthz", headers=headers)
            accepted = await http.post(f"{base}/webhooks/linq", content=body, headers=signed)
    assert refused.status_code == status
    assert health.status_code == status
    assert accepted.status_code == 200  # the same delivery on a loopback Host is taken


async def _subscription_secret(tmp_path: Path, seed: int) -> tuple[str, str]:
    sandbox = create_sandbox(SandboxConfig(seed=seed))
    async with assembled(settings_for(tmp_path / f"db-{len(list(tmp_path.iterdir()))}.sqlite3"), sandbox=sandbox):
        (sub_id, sub), *_ = sandbox.world.subscriptions.items()
        return sub_id, str(sub["_signing_secret"])


async def test_the_embedded_sandboxs_signing_secret_is_new_each_run_while_ids_stay_seeded(tmp_path: Path) -> None:
    first_id, first_secret = await _subscription_secret(tmp_path, seed=42)
    second_id, second_secret = await _subscription_secret(tmp_path, seed=42)
    assert first_id == second_id  # seeded ids are still reproducible
    assert first_secret != second_secret  # but nobody can compute the secret from the seed
