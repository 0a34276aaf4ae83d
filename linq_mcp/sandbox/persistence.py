"""Optional durability: the world as one JSON snapshot in SQLite (``config.db_path``).

The sandbox keeps everything in memory; with a ``db_path`` it loads the last snapshot
on start and writes a new one after every mutating request, so chats, messages,
subscriptions and opt-outs survive a restart. Timers do not: a message still
``pending`` is started again on load, later stages that were in flight are dropped.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from linq_mcp.store.db import connect

from .state import Event

if TYPE_CHECKING:
    from .app import Sandbox
    from .state import World

SKIP = {"config", "clock", "scheduler", "event_hooks", "rng", "_trace_rng"}
SCHEMA = "CREATE TABLE IF NOT EXISTS sandbox_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)"


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot snapshot {type(value).__name__}")


def _restore_bytes(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__bytes__"}:
        return base64.b64decode(value["__bytes__"])
    return value


def _rng_state(state: Any) -> tuple[Any, ...]:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def dump(world: World) -> str:
    """The world's state as JSON text."""
    data: dict[str, Any] = {}
    for spec in dataclasses.fields(world):
        if spec.name not in SKIP:
            data[spec.name] = getattr(world, spec.name)
    data["events"] = [dataclasses.asdict(e) for e in world.events]
    data["_rng"] = world.rng.getstate()
    data["_trace_rng"] = world._trace_rng.getstate()
    return json.dumps(data, default=_default)


def load(world: World, text: str) -> None:
    """Replace the world's state with a snapshot from :func:`dump`."""
    data = json.loads(text)
    names = {spec.name for spec in dataclasses.fields(world)} - SKIP
    for name, value in data.items():
        if name not in names:
            continue
        if name == "events":
            value = [Event(**e) for e in value]
        elif name == "opted_out":
            value = set(value)
        elif name == "idempotency":
            value = {k: (v[0], v[1]) for k, v in value.items()}
        elif name == "uploads":
            value = {k: _restore_bytes(v) for k, v in value.items()}
        setattr(world, name, value)
    if "_rng" in data:
        world.rng.setstate(_rng_state(data["_rng"]))
    if "_trace_rng" in data:
        world._trace_rng.setstate(_rng_state(data["_trace_rng"]))


class Store:
    """One SQLite row holding the latest snapshot."""

    def __init__(self, path: str) -> None:
        self.conn: sqlite3.Connection = connect(path)
        self.conn.execute(SCHEMA)

    def read(self) -> str | None:
        row = self.conn.execute("SELECT data FROM sandbox_snapshot WHERE id = 1").fetchone()
        return str(row[0]) if row else None

    def write(self, text: str) -> None:
        self.conn.execute(
            "INSERT INTO sandbox_snapshot (id, data) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (text,),
        )

    def close(self) -> None:
        self.conn.close()


def attach(sandbox: Sandbox) -> Store:
    """Load the saved world (if any) and save it again after every mutating request."""
    from . import people

    path = sandbox.world.config.db_path
    if not path:
        raise ValueError("persistence needs config.db_path")
    store = Store(path)
    saved = store.read()
    world = sandbox.world
    if saved is not None:
        load(world, saved)
        for message in world.messages.values():
            chat = world.chats.get(message["chat_id"])
            if chat is not None and message["is_from_me"] and message["delivery_status"] == "pending":
                people.schedule_outbound(world, chat, message, None)
    sandbox.after_mutation.append(lambda w: store.write(dump(w)))
    return store
