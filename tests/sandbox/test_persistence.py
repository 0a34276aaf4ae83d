"""Optional SQLite persistence: a sandbox with db_path survives a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from linq_mcp.sandbox.app import create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.persistence import dump, load
from linq_mcp.sandbox.transport import SandboxTransport

LINE = "+15550100001"
PEER = "+15557770001"
MESSAGE = {"parts": [{"type": "text", "value": "remember me"}], "idempotency_key": "p-1"}


def client(box: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=SandboxTransport(box.app),
        base_url="http://sandbox.local/api/partner",
        headers={"Authorization": f"Bearer {box.api_key}"},
    )


async def test_chats_survive_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(seed=9, db_path=str(tmp_path / "sandbox.db"))
    first = create_sandbox(config)
    async with client(first) as http:
        created = (await http.post("/v3/chats", json={"from": LINE, "to": [PEER], "message": MESSAGE})).json()
    second = create_sandbox(config)
    async with client(second) as http:
        got = await http.get(f"/v3/chats/{created['chat']['id']}")
    assert got.status_code == 200


async def test_idempotency_survives_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(seed=9, db_path=str(tmp_path / "sandbox.db"))
    body = {"from": LINE, "to": [PEER], "message": MESSAGE}
    async with client(create_sandbox(config)) as http:
        first = (await http.post("/v3/chats", json=body)).json()
    restarted = create_sandbox(config)
    async with client(restarted) as http:
        again = (await http.post("/v3/chats", json=body)).json()
    assert again == first
    assert len(restarted.world.messages) == 1


async def test_new_ids_do_not_repeat_after_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(seed=9, db_path=str(tmp_path / "sandbox.db"))
    async with client(create_sandbox(config)) as http:
        a = await http.post("/v3/chats", json={"from": LINE, "to": [PEER], "message": {"parts": MESSAGE["parts"]}})
    async with client(create_sandbox(config)) as http:
        b = await http.post(
            "/v3/chats", json={"from": LINE, "to": ["+15557770002"], "message": {"parts": MESSAGE["parts"]}}
        )
    assert a.json()["chat"]["id"] != b.json()["chat"]["id"]


def test_dump_and_load_round_trip() -> None:
    box = create_sandbox(SandboxConfig(seed=2))
    box.world.opted_out.add(PEER)
    box.world.uploads["a"] = b"\x00\x01"
    box.world.idempotency["x:y:z"] = (201, {"ok": True})
    other = create_sandbox(SandboxConfig(seed=2))
    load(other.world, dump(box.world))
    assert (other.world.opted_out, other.world.uploads, other.world.idempotency) == (
        {PEER},
        {"a": b"\x00\x01"},
        {"x:y:z": (201, {"ok": True})},
    )


def test_memory_only_by_default() -> None:
    assert create_sandbox(SandboxConfig()).after_mutation == []
