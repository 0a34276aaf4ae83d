"""Property: a handle is reachable iff the policy allows its canonical form, through every tool
that names people (issue 11, acceptance).

The tools come from the reach table (``policy.reach.TOOL_REACH``): every tool with a
direct handle argument is exercised, so a new one fails this test until it is listed
in ``CALLS``. Patterns and spellings are random; the expected verdict comes from an
oracle written here (the spelling generator knows the canonical handle it spelled, and
the matcher below is independent of ``policy.handles``). "Reached" is observed at the
boundary: a non-GET request arrived at the sandbox. The request must then carry the
canonical handle, never the raw spelling, so the person Linq reaches is the one checked.
"""

from __future__ import annotations

import fnmatch
import json
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
from e2e_helpers import AVA, LINE, PERMISSIVE, connected, data
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.policy.reach import TOOL_REACH
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import LimitsConfig, SandboxConfig, TimingConfig
from linq_mcp.sandbox.messaging import other_handles

# ---- the people, and how they may be spelled --------------------------------------------

PHONES = ["+15551230001", "+15551230002", "+15557770123", "+447946000123"]
EMAILS = ["alice@example.com", "alice+news@example.com", "bob@evil.com", "+15551230001@evil.com", "+1555@evil.example"]
GROUP = [AVA, "+15551230004", "+15551230005"]  # an existing group chat's other participants
DIGITS = ("0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९")


@dataclass(frozen=True)
class Spelling:
    text: str
    canonical: str | None  # None: not a handle anyone can read with confidence
    linq_syntax: bool  # already E.164 / an email as Linq's own pattern reads it


@st.composite
def phone_spellings(draw: st.DrawFn) -> Spelling:
    canonical = draw(st.sampled_from(PHONES))
    digits = canonical[1:]
    form = draw(st.sampled_from(["e164", "separated", "double_zero", "national", "brackets", "scripts", "broken"]))
    if form in ("national", "brackets") and not canonical.startswith("+1"):  # US national formats
        form = "separated"
    if form == "e164":
        return Spelling(canonical, canonical, True)
    if form == "scripts":  # every digit in some script; + may be fullwidth
        script = "".join(draw(st.sampled_from(DIGITS))[int(d)] for d in digits)
        plus = draw(st.sampled_from(["+", "＋"]))
        return Spelling(plus + script, canonical, False)
    if form == "broken":
        text = draw(
            st.sampled_from(
                [
                    f"tel:{canonical}",
                    f"{canonical} ext 5",
                    f"{canonical[:-1]}O",
                    f"{canonical} or +16665550000",
                    f"sms:{canonical}",
                ]
            )
        )
        return Spelling(text, None, False)
    sep = draw(st.sampled_from([" ", "-", ".", " - ", "\u00a0"]))
    grouped = sep.join([digits[: len(digits) - 10], digits[-10:-7], digits[-7:-4], digits[-4:]])
    if form == "separated":
        return Spelling("+" + grouped, canonical, False)
    if form == "double_zero":
        return Spelling("00" + grouped, canonical, False)
    national = digits[-10:]
    if form == "brackets":
        return Spelling(f"({national[:3]}) {national[3:6]}-{national[6:]}", canonical, False)
    return Spelling(national, canonical, False)


@st.composite
def email_spellings(draw: st.DrawFn) -> Spelling:
    canonical = draw(st.sampled_from(EMAILS))
    form = draw(st.sampled_from(["plain", "cased", "padded", "mailto", "homoglyph", "idn"]))
    if form == "plain":
        return Spelling(canonical, canonical, True)
    if form == "cased":
        flips = draw(st.lists(st.booleans(), min_size=len(canonical), max_size=len(canonical)))
        return Spelling("".join(c.upper() if f else c for c, f in zip(canonical, flips, strict=True)), canonical, True)
    if form == "padded":
        return Spelling(f" {canonical}\t", canonical, False)
    if form == "mailto":
        return Spelling(f"mailto:{canonical}", None, False)
    if form == "homoglyph":  # Cyrillic а / е look like a / e
        return Spelling(canonical.replace("a", "\u0430", 1).replace("e", "\u0435", 1), None, True)
    return Spelling(canonical.replace("example", "exämple").replace("evil", "évil"), None, True)


spellings = st.one_of(phone_spellings(), email_spellings())

# ---- patterns, and an independent matcher -------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    text: str
    kind: str  # exact | prefix | glob | any
    value: str


PATTERNS = st.one_of(
    st.sampled_from(
        [
            Pattern("+1555*", "prefix", "+1555"),
            Pattern("+1555123*", "prefix", "+1555123"),
            Pattern("+44*", "prefix", "+44"),
            Pattern("+1*", "prefix", "+1"),
            Pattern("*@example.com", "glob", "*@example.com"),
            Pattern("*@EVIL.com", "glob", "*@evil.com"),
            Pattern("alice*@example.com", "glob", "alice*@example.com"),
            Pattern("+1555*@evil.com", "glob", "+1555*@evil.com"),
            Pattern("*", "any", "*"),
        ]
    ),
    st.sampled_from(PHONES).map(lambda p: Pattern(p, "exact", p)),
    st.sampled_from(PHONES).map(lambda p: Pattern(f"{p[:-7]} {p[-7:-4]} {p[-4:]}", "exact", p)),
    st.sampled_from(EMAILS).map(lambda e: Pattern(e.upper(), "exact", e)),
)


def matches(pattern: Pattern, canonical: str) -> bool:
    is_email = "@" in canonical
    if pattern.kind == "any":
        return True
    if pattern.kind == "exact":
        return canonical == pattern.value
    if pattern.kind == "prefix":
        return not is_email and canonical.startswith(pattern.value)
    return is_email and fnmatch.fnmatchcase(canonical, pattern.value)


@dataclass(frozen=True)
class Rules:
    allow: tuple[Pattern, ...]
    block: tuple[Pattern, ...]

    def allows(self, canonical: str | None) -> bool:
        if canonical is None:
            return False  # an allow/block list is always set here: unreadable means refused
        if any(matches(p, canonical) for p in self.block):
            return False
        return not self.allow or any(matches(p, canonical) for p in self.allow)

    def config(self) -> SafetyConfig:
        keys: dict[str, Any] = {
            "allow_recipients": [p.text for p in self.allow],
            "block_recipients": [p.text for p in self.block],
            "confirm": "never",
            "max_sends_per_minute": 100_000,
            "max_sends_per_hour": 100_000,
            "max_sends_per_day": 100_000,
            "max_sends_per_recipient_per_hour": 100_000,
            "max_group_size": 31,
        }
        return SafetyConfig.from_mapping(keys)


rules = st.builds(Rules, st.lists(PATTERNS, max_size=3).map(tuple), st.lists(PATTERNS, max_size=2).map(tuple)).filter(
    lambda r: bool(r.allow or r.block)
)

# ---- every tool that names people ---------------------------------------------------------


@dataclass(frozen=True)
class World:
    group_chat: str
    direct_chat: str  # a chat with AVA only
    chats: dict[str, tuple[str, str]]  # person (canonical) -> (their 1:1 chat, its first message)


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


# tool -> the arguments naming these handles (chat_id: the chat it acts on, whose participants count too)
Call = Callable[[World, list[str]], dict[str, Any]]
CALLS: dict[str, Call] = {
    "create_chat": lambda w, h: {"from": LINE, "to": h, "message": text("hi")},
    "send_message_to_handles": lambda w, h: {"to": h, "message": text("hi")},
    "connect_payment_handle": lambda w, h: {"handle": h[0]},
    "add_participant": lambda w, h: {"chat_id": w.group_chat, "handle": h[0]},
    "stop_location_sharing": lambda w, h: {"chat_id": w.direct_chat, "handle": h[0]},
    "create_payment": lambda w, h: {"handle": h[0], "amount_cents": 500, "currency": "usd"},
    "create_payment_request": lambda w, h: {
        "rail": "natural",
        "from": LINE,
        "payer_handle": h[0],
        "amount": 500,
        "currency": "usd",
    },
}


def participants(sandbox: Sandbox, chat_id: str | None) -> list[str]:
    """Who is in the chat right now, as the sandbox holds it (earlier examples may have added people)."""
    return [] if chat_id is None else other_handles(sandbox.world.chats[chat_id])


GROUP_TOOLS = [t for t, r in TOOL_REACH.items() if r.new_group]  # also called with several handles


def test_every_tool_that_names_people_is_exercised() -> None:
    assert set(CALLS) == {tool for tool, reach in TOOL_REACH.items() if reach.direct}


# ---- the boundary -------------------------------------------------------------------------


class Requests:
    """Every non-GET API request that reaches the sandbox (the sandbox itself is unchanged)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.seen: list[set[str]] = []  # per request: its path segments and every string in its body
        inner = sandbox.dispatch

        async def dispatch(method: str, path: str, query: str, headers: Any, body: bytes) -> Any:
            if method != "GET" and "/v3/" in path:
                self.seen.append({unquote(part) for part in path.split("/")} | strings(json.loads(body or b"null")))
            return await inner(method, path, query, headers, body)

        sandbox.dispatch = dispatch  # type: ignore[method-assign,assignment]

    async def during(self, call: Callable[[], Awaitable[Any]]) -> tuple[Any, list[set[str]]]:
        before = len(self.seen)
        result = await call()
        return result, self.seen[before:]


def strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value))
    return set()


_STATE: dict[str, Any] = {}


def shared() -> tuple[Sandbox, World, Requests, Path]:
    """One sandbox for every example (its world only grows), with the chats the tools act on."""
    if not _STATE:
        config = SandboxConfig(
            seed=7,
            timing=TimingConfig(sent=0.01, delivered=0.01, read=0.01, reply=0.01),
            limits=LimitsConfig(pair_messages=1_000_000, capability_checks=1_000_000),
        )
        sandbox = create_sandbox(config)
        db = Path(tempfile.mkdtemp(prefix="linq-reach-")) / "db.sqlite3"

        async def setup() -> World:
            settings = Settings(sandbox=True, toolsets=("all",), safety=PERMISSIVE, db_path=str(db))
            async with connected(sandbox, settings) as (client, _):

                async def chat(people: list[str]) -> tuple[str, str]:
                    args = {"from": LINE, "to": people, "message": text("hello")}
                    created = data(await client.call_tool("create_chat", args))["chat"]
                    return str(created["id"]), str(created["message"]["id"])

                group, direct = await chat(GROUP), await chat([AVA])
                chats = {person: await chat([person]) for person in PHONES + EMAILS}
            return World(group[0], direct[0], chats)

        world = anyio.run(setup)
        _STATE.update(sandbox=sandbox, world=world, requests=Requests(sandbox), db=db)
    return _STATE["sandbox"], _STATE["world"], _STATE["requests"], _STATE["db"]


# No shrinking: each example is eight real calls; the failure report shows the example as drawn.
@settings(
    max_examples=60,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rules=rules, first=spellings, second=spellings)
@example(  # issue 11, item 1: an email that starts like an allowed number prefix
    rules=Rules((Pattern("+1555*", "prefix", "+1555"),), ()),
    first=Spelling("+15551230001@evil.com", "+15551230001@evil.com", True),
    second=Spelling("+1 555 123 0002", "+15551230002", False),
)
def test_a_handle_is_reachable_iff_the_policy_allows_its_canonical_form(
    rules: Rules, first: Spelling, second: Spelling
) -> None:
    sandbox, world, requests, db = shared()
    plan = [(tool, [first]) for tool in CALLS] + [(tool, [first, second]) for tool in GROUP_TOOLS]

    async def run() -> list[tuple[str, list[Spelling], list[str], Any, list[set[str]]]]:
        settings = Settings(sandbox=True, toolsets=("all", "payments"), safety=rules.config(), db_path=str(db))
        out = []
        async with connected(sandbox, settings) as (client, _):
            for tool, handles in plan:
                args = CALLS[tool](world, [h.text for h in handles])
                in_chat = participants(sandbox, args.get("chat_id"))
                result, seen = await requests.during(lambda: client.call_tool(tool, args))  # noqa: B023
                out.append((tool, handles, in_chat, result, seen))
        return out

    for tool, handles, in_chat, result, seen in anyio.run(run):
        payload = result.structured_content or {}
        why = f"{tool} {[h.text for h in handles]} under {rules}: {result.content[0].text[:300]}"
        if payload.get("error") == "invalid_arguments":
            # Refused before the policy: the tool's schema takes Linq's own handle syntax only,
            # and names each recipient once.
            texts = [h.text for h in handles]
            assert not all(h.linq_syntax for h in handles) or len(set(texts)) < len(texts), why
            assert not seen, why
            continue
        expected = all(rules.allows(h.canonical) for h in handles) and all(rules.allows(p) for p in in_chat)
        assert bool(seen) == expected, why
        if not expected:
            assert payload.get("error") == "policy_refused", why
            continue
        request = seen[-1]
        for handle in handles:  # the person Linq is asked to reach is the one the policy checked
            assert handle.canonical in request, why
            assert handle.text == handle.canonical or handle.text not in request, why


# ---- sends into an existing chat: its participants are whom they reach --------------------

ChatCall = Callable[[str, str], dict[str, Any]]
CHAT_CALLS: dict[str, ChatCall] = {
    "send_message": lambda chat, msg: {"chat_id": chat, "message": text("hi")},
    "send_voice_memo": lambda chat, msg: {"chat_id": chat, "voice_memo_url": "https://example.com/memo.m4a"},
    "share_contact_card": lambda chat, msg: {"chat_id": chat},
    "request_location": lambda chat, msg: {"chat_id": chat},
    "create_poll": lambda chat, msg: {"chat_id": chat, "poll": {"options": [{"text": "A"}, {"text": "B"}]}},
    "update_app_card": lambda chat, msg: {"message_id": msg, "layout": {"caption": "hi"}},
}


def test_every_tool_that_sends_into_a_chat_is_exercised() -> None:
    assert set(CHAT_CALLS) == {tool for tool, reach in TOOL_REACH.items() if reach.sends and not reach.direct}


@settings(
    max_examples=40,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rules=rules, person=st.sampled_from(PHONES + EMAILS))
@example(rules=Rules((Pattern("+1555*", "prefix", "+1555"),), ()), person="+1555@evil.example")
def test_a_chat_is_reachable_iff_the_policy_allows_everyone_in_it(rules: Rules, person: str) -> None:
    sandbox, world, requests, db = shared()
    chat_id, message_id = world.chats[person]

    async def run() -> list[tuple[str, list[str], Any, list[set[str]]]]:
        settings = Settings(sandbox=True, toolsets=("all",), safety=rules.config(), db_path=str(db))
        out = []
        async with connected(sandbox, settings) as (client, _):
            for tool, call in CHAT_CALLS.items():
                in_chat = participants(sandbox, chat_id)
                result, seen = await requests.during(lambda: client.call_tool(tool, call(chat_id, message_id)))  # noqa: B023
                out.append((tool, in_chat, result, seen))
        return out

    for tool, in_chat, result, seen in anyio.run(run):
        payload = result.structured_content or {}
        why = f"{tool} in a chat with {in_chat} under {rules}: {result.content[0].text[:300]}"
        assert payload.get("error") != "invalid_arguments", why
        expected = all(rules.allows(p) for p in in_chat)
        assert bool(seen) == expected, why
        if not expected:
            assert payload.get("error") == "policy_refused", why
