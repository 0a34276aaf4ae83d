"""``linq-mcp doctor [--sandbox] [--json]``: a checklist, with a one-line fix for every failure.

It checks what makes linq-mcp fail silently in a desktop app: the configuration, where
the key comes from and whether Linq accepts it (one read call), the lines and their
reputation, the webhook subscription and the last verified event, the clock against the
API's ``Date`` header (webhook signatures allow ±5 minutes), a writable data directory,
the safety policy in force, and each client entry's executable. Exit 1 on any failure.
Nothing secret is printed: the key appears only as where it came from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
import httpx

from linq_mcp.config.settings import Settings

__all__ = ["Check", "diagnose", "run_doctor"]

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
SIGNATURE_TOLERANCE = 300  # seconds: Linq's webhook signatures are valid ±5 minutes
SKEW_WARNING = 60
SETUP_FIX = "run 'linq-mcp webhooks setup --url https://YOUR-HOST/webhooks/linq' (or use --poll-interval 10)"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | info
    detail: str
    fix: str | None = None


def _load(flags: Mapping[str, Any], args: argparse.Namespace | None) -> Settings:
    import dataclasses

    from linq_mcp.config import settings as settings_mod
    from linq_mcp.policy import SafetyConfig

    settings = settings_mod.load(flags)
    safety = SafetyConfig.layered(dict(settings.safety) or None, os.environ, args)
    return dataclasses.replace(settings, safety=safety)


async def diagnose(flags: Mapping[str, Any], args: argparse.Namespace | None = None) -> list[Check]:
    from linq_mcp.config.settings import SettingsError
    from linq_mcp.policy import SafetyConfigError

    checks: list[Check] = []
    try:
        settings = _load(flags, args)
    except (SettingsError, SafetyConfigError) as exc:
        checks.append(Check("configuration", FAIL, str(exc), "correct that setting (flag, environment or file)"))
        checks.append(_data_dir(None))
        checks += _clients()
        return checks
    where = f"config file {settings.config_file}" if settings.config_file else "no config file; flags and environment"
    checks.append(Check("configuration", OK, f"valid ({where})"))
    key_check = _key_source(settings)
    checks.append(key_check)
    if key_check.status != FAIL:
        checks += await _api_checks(settings)
    checks.append(_data_dir(settings))
    checks.append(Check("safety policy", INFO, _policy_line(settings)))
    checks += _clients()
    return checks


def _key_source(settings: Settings) -> Check:
    from linq_mcp.config.credentials import read_linq_cli

    if settings.sandbox:
        return Check("API key", OK, "sandbox mode: the embedded simulator needs no key")
    if settings.api_key:
        return Check("API key", OK, f"from {settings.api_key_source or 'the settings'}")
    cli = read_linq_cli()
    why = f"; {cli.path}: {cli.problem}" if cli is not None and cli.problem else ""
    return Check(
        "API key",
        FAIL,
        f"no Linq API key found (LINQ_API_V3_API_KEY, LINQ_API_KEY, ~/.linq/config.json){why}",
        "run 'linq login' (Linq CLI) or set LINQ_API_V3_API_KEY; or try everything with --sandbox",
    )


async def _api_checks(settings: Settings) -> list[Check]:
    from linq_mcp.api.client import make_http_client

    timeout = httpx.Timeout(10.0, connect=5.0)
    if settings.sandbox:
        from linq_mcp.sandbox.transport import SandboxTransport
        from linq_mcp.server.runtime import SANDBOX_BASE_URL, build_sandbox

        sandbox = build_sandbox(settings)
        async with sandbox.running():
            http = make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox))
            async with http:
                return await _probe(http, settings, SANDBOX_BASE_URL)
    async with make_http_client(settings.base_url, settings.api_key or "", timeout=timeout) as http:
        return await _probe(http, settings, settings.base_url)


async def _probe(http: httpx.AsyncClient, settings: Settings, base_url: str) -> list[Check]:
    source = "the sandbox" if settings.sandbox else (settings.api_key_source or "the settings")
    try:
        response = await http.get("v3/phone_numbers")
    except httpx.HTTPError as exc:
        reason = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
        return [
            Check(
                "Linq API reachable",
                FAIL,
                f"cannot reach {base_url} ({reason})",
                "check the network, or the base URL (--base-url / LINQ_API_V3_BASE_URL)",
            )
        ]
    checks = [Check("Linq API reachable", OK, f"{base_url} answered {response.status_code}")]
    checks.append(_clock(response))
    if response.status_code in (401, 403):
        checks.append(
            Check(
                "key works",
                FAIL,
                f"Linq refused the key from {source} ({response.status_code})",
                "create a token in the Linq dashboard, then 'linq login --token …' or update that source",
            )
        )
        return checks
    if response.status_code != 200:
        trace = response.headers.get("x-trace-id", "none")
        checks.append(
            Check(
                "key works",
                FAIL,
                f"GET /v3/phone_numbers answered {response.status_code} (trace {trace})",
                "retry in a minute; if it persists, give Linq support the trace id",
            )
        )
        return checks
    checks.append(Check("key works", OK, f"key from {source} accepted (GET /v3/phone_numbers)"))
    checks.append(_lines(response))
    checks += await _webhooks(http, settings)
    return checks


def _clock(response: httpx.Response) -> Check:
    header = response.headers.get("date")
    if not header:
        return Check("clock", WARN, "the API sent no Date header; skew not measured")
    try:
        server = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return Check("clock", WARN, f"unreadable Date header {header!r}; skew not measured")
    skew = time.time() - server
    where = "ahead of" if skew > 0 else "behind"
    detail = f"this machine is {abs(skew):.0f} s {where} the Linq API"
    if abs(skew) > SIGNATURE_TOLERANCE:
        return Check(
            "clock",
            FAIL,
            detail + " (webhook signatures allow ±300 s)",
            "sync this machine's clock with NTP (e.g. 'sudo timedatectl set-ntp true', or Date & Time settings)",
        )
    if abs(skew) > SKEW_WARNING:
        return Check("clock", WARN, detail, "sync the clock with NTP before it drifts past ±300 s")
    return Check("clock", OK, detail)


def _lines(response: httpx.Response) -> Check:
    try:
        lines = [n for n in (response.json() or {}).get("phone_numbers") or [] if isinstance(n, dict)]
    except (ValueError, AttributeError):
        lines = []
    if not lines:
        return Check("lines", FAIL, "no lines on this account", "add a phone line in the Linq dashboard")
    described = []
    unhealthy = []
    for line in lines:
        status = str((line.get("reputation") or {}).get("status") or "unknown")
        described.append(f"{line.get('phone_number')} {line.get('line_type') or ''} {status}".replace("  ", " "))
        if status.upper() not in ("HEALTHY", "UNKNOWN"):
            unhealthy.append(f"{line.get('phone_number')} ({status})")
    detail = f"{len(lines)}: " + ", ".join(described)
    if unhealthy:
        return Check(
            "lines",
            WARN,
            detail,
            f"reputation of {', '.join(unhealthy)}: see https://docs.linqapp.com/guides/reputation",
        )
    return Check("lines", OK, detail)


async def _webhooks(http: httpx.AsyncClient, settings: Settings) -> list[Check]:
    from linq_mcp.events.secrets import secrets_file, subscription_of
    from linq_mcp.server.app import database_path

    if settings.sandbox:
        return [Check("webhooks", OK, "sandbox: linq-mcp subscribes to the simulator's signed webhooks at start")]
    db = database_path(settings)
    try:
        response = await http.get("v3/webhook-subscriptions")
        subs = [s for s in (response.json() or {}).get("subscriptions") or [] if isinstance(s, dict)]
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return [Check("webhooks", WARN, f"subscriptions not listed ({type(exc).__name__})")]
    ours = await anyio.to_thread.run_sync(lambda: subscription_of(secrets_file(db)))
    mine = next((s for s in subs if s.get("id") == ours), None) if ours else None
    checks: list[Check] = []
    if ours and mine is None:
        checks.append(Check("webhooks", FAIL, f"the subscription linq-mcp created ({ours}) is gone", SETUP_FIX))
    elif mine is not None and not mine.get("is_active", True):
        checks.append(Check("webhooks", FAIL, f"subscription {ours} is paused", SETUP_FIX))
    elif mine is not None:
        checks.append(Check("webhooks", OK, f"subscription {ours} -> {mine.get('target_url')}, active"))
    elif subs:
        checks.append(
            Check("webhooks", WARN, f"{len(subs)} subscription(s), none set up by linq-mcp on this machine", SETUP_FIX)
        )
    else:
        checks.append(Check("webhooks", WARN, "no webhook subscription: replies arrive only by polling", SETUP_FIX))
    checks.append(Check("last event", INFO, await anyio.to_thread.run_sync(lambda: _last_event(db))))
    return checks


def _last_event(db: Path) -> str:
    from linq_mcp.cli.webhook_commands import _store_stats

    try:
        stats = _store_stats(db)
    except Exception as exc:  # a locked or foreign file: report, never crash the checklist
        return f"event store {db} unreadable ({type(exc).__name__})"
    if not stats.get("last"):
        return f"none yet in {db}"
    event_type, received_at, source = stats["last"]
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(received_at))
    return f"{event_type} at {when} ({source}), {stats['total']} stored"


def _data_dir(settings: Settings | None) -> Check:
    from linq_mcp.config.paths import data_dir

    target = Path(settings.db_path).expanduser().parent if settings and settings.db_path else data_dir()
    fix = "set LINQ_MCP_DATA_DIR (or --db-path) to a writable directory, or fix its permissions"
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".doctor-", dir=target)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return Check("data directory", FAIL, f"cannot write {target} ({exc.strerror or type(exc).__name__})", fix)
    return Check("data directory", OK, f"{target} is writable")


def _policy_line(settings: Settings) -> str:
    from linq_mcp.policy import SafetyConfig

    safety = settings.safety if isinstance(settings.safety, SafetyConfig) else SafetyConfig()
    parts = ["read-only" if settings.read_only else "sends allowed"]
    n = len(safety.allow_recipients)
    parts.append(f"recipients: {n} allow pattern(s)" if n else "recipients: anyone")
    if safety.block_recipients:
        parts.append(f"{len(safety.block_recipients)} blocked pattern(s)")
    parts.append(f"confirm: {safety.confirm}")
    parts.append(f"caps {safety.max_sends_per_minute}/min {safety.max_sends_per_hour}/h {safety.max_sends_per_day}/day")
    parts.append(f"inbound: {safety.inbound}")
    parts.append(f"toolsets: {','.join(settings.toolsets)}")
    return "; ".join(parts)


def _clients() -> list[Check]:
    from linq_mcp.cli.clients import installed_entries

    entries = installed_entries()
    if not entries:
        return [
            Check(
                "clients",
                INFO,
                "linq-mcp is not installed in Claude Desktop, Claude Code, Cursor or VS Code",
                "linq-mcp install claude-desktop (or claude-code, cursor, vscode)",
            )
        ]
    out = []
    for e in entries:
        name = f"client {e.client.name}"
        if e.command_exists:
            out.append(Check(name, OK, f"'{e.name}' in {e.path} runs {e.command}"))
        else:
            out.append(
                Check(
                    name,
                    FAIL,
                    f"'{e.name}' in {e.path} runs {e.command}, which does not exist",
                    f"run 'linq-mcp install {e.client.name}' again from the linq-mcp you use",
                )
            )
    return out


def render(checks: list[Check]) -> str:
    marks = {OK: "ok  ", WARN: "warn", FAIL: "FAIL", INFO: "info"}
    lines = ["linq-mcp doctor"]
    for c in checks:
        lines.append(f"  [{marks[c.status]}] {c.name}: {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"         fix: {c.fix}")
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    lines.append(f"{failed} failed, {warned} warnings, {len(checks)} checks")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace, flags: Mapping[str, Any]) -> int:
    from linq_mcp.cli.main import configure_logging

    configure_logging("error")
    checks = anyio.run(diagnose, flags, args)
    failed = any(c.status == FAIL for c in checks)
    if getattr(args, "json", False):
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print(render(checks))
    sys.stdout.flush()
    return 1 if failed else 0
