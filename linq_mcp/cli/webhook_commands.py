"""``linq-mcp webhooks serve | setup | status``.

``serve`` runs the receiver alone, writing the shared event store (a stdio MCP server
in another process sees its events: the store notices other processes' commits).
``setup`` creates or updates the Linq subscription and keeps its signing secret in a
0600 file next to the database; the secret is never printed or logged. ``status``
reports subscriptions, the last event, counts, and a running receiver's rejections.
Human output goes to stdout here (these commands do not speak MCP).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio
import anyio.to_thread
import httpx

from linq_mcp.api.client import ApiRequest
from linq_mcp.api.errors import LinqMCPError
from linq_mcp.config.settings import Settings
from linq_mcp.events.secrets import read_secrets, save_secret, secrets_file, subscription_of
from linq_mcp.events.wiring import PAYLOAD_VERSION, USEFUL_EVENTS, configured_secrets
from linq_mcp.server.app import database_path
from linq_mcp.store import db

__all__ = ["run_webhooks_command", "target_with_version"]

USAGE = "usage: linq-mcp webhooks {serve,setup,status} (see --help)"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _err(message: str) -> None:
    print(f"linq-mcp: {message}", file=sys.stderr)


def _leaf(exc: BaseException) -> BaseException:
    """The one real error inside the runtime's task-group wrapping (or ``exc`` itself)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def run_webhooks_command(action: str | None, settings: Settings, args: argparse.Namespace) -> int:
    if action == "serve":
        return _serve(settings)
    if action == "setup":
        events = [e.strip() for e in (args.events or "").split(",") if e.strip()] or list(USEFUL_EVENTS)
        return int(anyio.run(_setup, settings, args.url, events))
    if action == "status":
        return int(anyio.run(_status, settings))
    _err(USAGE)
    return 2


# serve -------------------------------------------------------------------------------------
def _serve(settings: Settings) -> int:
    from linq_mcp.server.transports import make_uvicorn
    from linq_mcp.store import make_store
    from linq_mcp.webhooks import create_receiver_app

    path = database_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)  # a bad --db-path is one line now, not a startup traceback
    secrets = configured_secrets(settings, path)
    if not secrets:
        _err("no webhook secret: run 'linq-mcp webhooks setup --url …' or set LINQ_WEBHOOK_SECRET")
        return 2
    port = settings.webhooks_port or settings.port
    store = make_store(settings.store_url, path)  # events only: the app's lifespan opens and closes them
    app = create_receiver_app(store.events, secrets)
    print(
        f"linq-mcp: receiving Linq webhooks on http://{settings.host}:{port}/webhooks/linq into {store.display}",
        file=sys.stderr,
    )
    level = settings.log_level.lower()
    server = make_uvicorn(app, settings.host, port, log_level=level, access_log=False)
    server.run()  # the head deadline, redacted logs, and a SIGTERM that drains
    return 0


# setup -------------------------------------------------------------------------------------
def target_with_version(url: str) -> str:
    """``url`` with ``?version=2026-02-03`` (replacing any other version), so the payload shape never drifts."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "version"]
    query.append(("version", PAYLOAD_VERSION))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _same_endpoint(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc, pa.path.rstrip("/")) == (pb.scheme, pb.netloc, pb.path.rstrip("/"))


async def _setup(settings: Settings, url: str, events: list[str]) -> int:
    from linq_mcp.server.runtime import open_runtime

    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        _err("--url must be a public https URL (e.g. https://example.com/webhooks/linq)")
        return 2
    target = target_with_version(url)
    path = secrets_file(database_path(settings))
    try:
        async with open_runtime(settings) as rt:
            listed = await rt.client.send(ApiRequest("GET", "/v3/webhook-subscriptions", replay_safe=True))
            subs = [s for s in (listed.body or {}).get("subscriptions") or [] if isinstance(s, dict)]
            same = [s for s in subs if _same_endpoint(str(s.get("target_url", "")), target)]
            ours = subscription_of(path)
            known = next((s for s in same if s.get("id") == ours), None)
            if known is not None and read_secrets(path):
                body = {"target_url": target, "subscribed_events": events, "is_active": True}
                await rt.client.send(
                    ApiRequest("PUT", f"/v3/webhook-subscriptions/{known['id']}", json=body, replay_safe=True)
                )
                print(f"Updated webhook subscription {known['id']}: {target}")
                print(f"  {len(events)} event types; payload version {PAYLOAD_VERSION}; signing secret unchanged.")
                return 0
            for old in same:  # a subscription to this URL whose secret we do not hold: replace it
                await rt.client.send(ApiRequest("DELETE", f"/v3/webhook-subscriptions/{old['id']}", replay_safe=True))
                print(f"Deleted webhook subscription {old['id']} (its signing secret is not on this machine).")
            created = await rt.client.send(
                ApiRequest(
                    "POST", "/v3/webhook-subscriptions", json={"target_url": target, "subscribed_events": events}
                )
            )
            sub_id = str(created.body["id"])
            await anyio.to_thread.run_sync(
                lambda: save_secret(
                    path, str(created.body["signing_secret"]), subscription_id=sub_id, keep=read_secrets(path)
                )
            )
    except (LinqMCPError, ExceptionGroup) as exc:
        error = _leaf(exc)
        if not isinstance(error, LinqMCPError):
            raise
        _err(f"webhooks setup failed: {error}")
        return 1
    print(f"Created webhook subscription {sub_id}: {target}")
    print(f"  {len(events)} event types; payload version {PAYLOAD_VERSION}.")
    print(f"  Signing secret saved to {path} (mode 0600); linq-mcp reads it from there.")
    print("  Serve it with 'linq-mcp --transport http' or 'linq-mcp webhooks serve' behind that URL.")
    return 0


# status ------------------------------------------------------------------------------------
def _store_stats(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"total": 0}
    conn = db.connect(path)
    try:
        total = conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0]
        last = conn.execute(
            "SELECT event_type, received_at, source FROM webhook_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        by_type = conn.execute(
            "SELECT event_type, count(*) FROM webhook_events GROUP BY event_type ORDER BY 2 DESC"
        ).fetchall()
        by_source = conn.execute("SELECT source, count(*) FROM webhook_events GROUP BY source").fetchall()
        unread = conn.execute("SELECT count(*) FROM webhook_events WHERE inbox_state = 0").fetchone()[0]
    except sqlite3.OperationalError:  # no events table yet
        return {"total": 0}
    finally:
        conn.close()
    return {"total": total, "last": last, "by_type": by_type, "by_source": by_source, "unread": unread}


async def _receiver_health(settings: Settings) -> tuple[str, dict[str, Any] | None]:
    port = settings.webhooks_port or settings.port
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = f"http://{host}:{port}/webhooks/linq/health"
    try:
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            response = await client.get(url)
        if response.status_code == 200:
            return url, dict(response.json())
    except (httpx.HTTPError, ValueError):
        pass
    return url, None


async def _status(settings: Settings) -> int:
    from linq_mcp.server.runtime import MissingApiKey, open_runtime

    path = database_path(settings)
    print("Subscriptions:")
    try:
        async with open_runtime(settings) as rt:
            listed = await rt.client.send(ApiRequest("GET", "/v3/webhook-subscriptions", replay_safe=True))
            subs = (listed.body or {}).get("subscriptions") or []
            if not subs:
                print("  none (create one with 'linq-mcp webhooks setup --url https://…/webhooks/linq')")
            for s in subs:
                state = "active" if s.get("is_active") else "paused"
                count = len(s.get("subscribed_events") or [])
                print(f"  {s.get('id')}  {s.get('target_url')}  {state}, {count} event types")
    except (MissingApiKey, LinqMCPError, ExceptionGroup) as exc:
        error = _leaf(exc)
        if isinstance(error, MissingApiKey):
            print("  not checked: no Linq API key (set LINQ_API_V3_API_KEY, or use --sandbox)")
        elif isinstance(error, LinqMCPError):
            print(f"  not checked: {error}")
        else:
            raise
    stats = await anyio.to_thread.run_sync(_store_stats, path)
    print(f"Event store: {path}")
    print(f"  events: {stats['total']}")
    if stats.get("last"):
        event_type, received_at, source = stats["last"]
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(received_at))
        print(f"  last event received: {event_type} at {when} ({source})")
    else:
        print("  last event received: none yet")
    if stats.get("by_source"):
        print("  by source: " + ", ".join(f"{s} {n}" for s, n in stats["by_source"]))
    if stats.get("by_type"):
        print("  by type: " + ", ".join(f"{t} {n}" for t, n in stats["by_type"]))
    if "unread" in stats:
        print(f"  unread inbound messages: {stats['unread']}")
    secrets = configured_secrets(settings, path)
    print(f"Signing secrets configured: {len(secrets)}")
    url, health = await _receiver_health(settings)
    if health is None:
        print(f"Receiver: none answering at {url}")
    else:
        rejected = health.get("rejected") or {}
        print(
            f"Receiver at {url}: accepted {health.get('accepted', 0)}, duplicates {health.get('duplicates', 0)}, "
            f"rejected {sum(rejected.values()) if rejected else 0}"
            + (f" ({json.dumps(rejected, sort_keys=True)})" if rejected else "")
        )
    return 0
