"""Sandbox configuration: lines, the cast of simulated people, timings, limits, faults.

Defaults make a useful world with no file at all; ``SandboxConfig.from_toml`` reads
the same names from a TOML file (see ``linq_mcp/sandbox/default.toml``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

DEFAULT_API_KEY = "linq_sandbox_test_key"


@dataclass
class LineConfig:
    phone_number: str
    line_type: str = "iMessage"  # iMessage | RCS | SMS : what the line can send over
    id: str | None = None  # a UUID; derived from the seed when absent
    status: str = "ACTIVE"  # ACTIVE | FLAGGED
    # Zero data retention: Linq keeps no message text for the line, so an outbound edit's
    # message.edited carries an empty part.text (catalog C.3).
    zero_retention: bool = False


@dataclass
class RuleConfig:
    keyword: str  # case-insensitive substring of the inbound text
    reply: str


@dataclass
class PersonConfig:
    handle: str  # E.164 or email
    name: str = ""
    services: list[str] = field(default_factory=lambda: ["iMessage", "RCS", "SMS"])
    # How they answer: echo | canned | rules | stop | silent
    replies: str = "canned"
    canned: list[str] = field(default_factory=lambda: ["Sounds good!", "Got it, thanks.", "Sure — talk soon."])
    rules: list[RuleConfig] = field(default_factory=list)
    reply_delay: float | None = None  # seconds; None = the world's default
    read_receipts: bool = True
    typing: bool = True
    react: str | None = None  # a tapback they leave on messages they read, e.g. "like"
    location: tuple[float, float] | None = None  # lon, lat if they share location


@dataclass
class TimingConfig:
    sent: float = 0.05  # pending -> sent
    delivered: float = 0.15  # sent -> delivered
    read: float = 0.4  # delivered -> read
    reply: float = 0.8  # read -> the person's reply arrives
    reputation_audit: float = 2.0  # a started reputation audit completes after this long
    provider_onboarding: float = 2.0  # a payment provider's onboarding session turns ready
    # A new chat is "still being created" this long: operations on it meanwhile → 409/2009
    # (the SDK retries 409 for this). 0 = ready at once; see docs/sandbox.md.
    chat_creation: float = 0.0


@dataclass
class LimitsConfig:
    pair_messages: int = 30  # per sender-recipient pair ...
    pair_window: float = 60.0  # ... per sliding window of this many seconds
    line_daily: int | None = None  # per line per UTC day; None = no cap (Linq has none)
    account_daily: int | None = None  # the sandbox tier's cap (Linq: 100); None = off
    require_inbound_first: bool = False  # sandbox tier: 403/2008 unless they wrote first
    capability_checks: int = 60  # per window per line
    capability_window: float = 60.0
    contact_card_calls: int = 3  # POST+PATCH per phone number ...
    contact_card_window: float = 600.0  # ... per this many seconds
    reputation_audit_cooldown: float = 900.0  # after an audit finishes, before the next may start
    # Participants including you. Carriers cap SMS/MMS groups at "about 20, sometimes 10";
    # we take the stricter 10. Any group: 31 recipients + you.
    sms_group_max: int | None = 10
    group_max: int = 32
    # Idempotency keys are kept this long (the catalog gives no window, G.5; 24 h is our
    # reading): after it, the same key sends again.
    idempotency_retention: float = 86400.0


@dataclass
class FaultConfig:
    rate: float = 0.0  # fraction of API requests that fail in one of the ways below
    kinds: dict[str, float] = field(
        default_factory=lambda: {
            "500": 1.0,
            "502": 1.0,
            "503": 1.0,
            "429": 1.0,
            "latency": 1.0,
            "drop": 1.0,
            "commit_then_lose": 1.0,
        }
    )
    latency_ms: int = 300
    retry_after: int = 1
    only_operations: list[str] = field(default_factory=list)  # empty = every operation


@dataclass
class FailuresConfig:
    """Asynchronous failures at a seeded rate: a 202 send that later gets ``message.failed``,
    a pending group rename/icon change that gets ``chat.group_*_update_failed``."""

    rate: float = 0.0  # fraction of outbound messages that fail after they were accepted
    codes: dict[str, float] = field(default_factory=lambda: {"4001": 1.0})  # message.failed code -> weight
    group_update_rate: float = 0.0  # fraction of group renames / icon changes that fail
    group_update_codes: dict[str, float] = field(default_factory=lambda: {"4001": 1.0})  # 3007 | 4001


@dataclass
class WebhookDeliveryConfig:
    retry_schedule: list[float] = field(default_factory=lambda: [0, 2, 4, 8, 16, 30])
    timeout: float = 10.0


def _default_lines() -> list[LineConfig]:
    return [
        LineConfig(phone_number="+15550100001", line_type="iMessage"),
        LineConfig(phone_number="+15550100002", line_type="RCS"),
    ]


def _default_people() -> list[PersonConfig]:
    return [
        PersonConfig(
            handle="+15551230001",
            name="Ava (iMessage)",
            services=["iMessage", "RCS", "SMS"],
            replies="rules",
            rules=[
                RuleConfig("dinner", "Dinner sounds great — 7pm?"),
                RuleConfig("?", "Good question! Let me check and get back to you."),
            ],
            canned=["Sounds good!", "Got it, thanks.", "See you then 👋"],
            react="love",
            location=(-122.4194, 37.7749),
        ),
        PersonConfig(
            handle="+15551230002",
            name="Sam (SMS only)",
            services=["SMS"],
            replies="echo",
            read_receipts=False,
            typing=False,
        ),
        PersonConfig(
            handle="+15551230003",
            name="Steve (opts out)",
            services=["iMessage", "SMS"],
            replies="stop",
        ),
        PersonConfig(
            handle="+15551230004",
            name="Rita (RCS)",
            services=["RCS", "SMS"],
            replies="canned",
            canned=["Thanks for the message!"],
        ),
        PersonConfig(
            handle="ava@example.com",
            name="Ava (email handle)",
            services=["iMessage"],
            replies="canned",
        ),
    ]


@dataclass
class SandboxConfig:
    seed: int = 0
    api_keys: list[str] = field(default_factory=lambda: [DEFAULT_API_KEY])
    partner_id: str = "partner_sandbox"
    # Keys of *other* partners (API key -> partner id): they may call the API, but what one
    # partner owns (attachments) is 404 to the others, as with Linq.
    other_partners: dict[str, str] = field(default_factory=dict)
    lines: list[LineConfig] = field(default_factory=_default_lines)
    people: list[PersonConfig] = field(default_factory=_default_people)
    timing: TimingConfig = field(default_factory=TimingConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    failures: FailuresConfig = field(default_factory=FailuresConfig)
    webhooks: WebhookDeliveryConfig = field(default_factory=WebhookDeliveryConfig)
    # Hosts whose plain-http webhook targets are accepted (Linq itself demands https).
    http_webhook_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]", "testserver"])
    # Public base URL of the sandbox itself (upload/download URLs point here).
    public_base_url: str = "http://127.0.0.1:8900"
    db_path: str | None = None  # SQLite file to persist state across restarts
    # What URLs the sandbox "downloads" turn out to be ([[web]]: url, size_bytes, content_type,
    # reachable); see sandbox/web.py.
    web: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_toml(cls, path: str | Path) -> SandboxConfig:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls.from_dict(data.get("sandbox", data))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxConfig:
        config: SandboxConfig = _build(cls, data)
        return config


_NESTED: dict[str, Any] = {
    "lines": LineConfig,
    "people": PersonConfig,
    "rules": RuleConfig,
    "timing": TimingConfig,
    "limits": LimitsConfig,
    "faults": FaultConfig,
    "failures": FailuresConfig,
    "webhooks": WebhookDeliveryConfig,
}


def _build(cls: Any, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown sandbox config key(s) for {cls.__name__}: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = _NESTED.get(key)
        if sub is not None and is_dataclass(sub):
            if isinstance(value, list):
                value = [_build(sub, v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                value = _build(sub, value)
        if key == "location" and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)
