"""Whom each tool reaches: named handles, an existing chat's participants, never our own lines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from policy_helpers import SEND, text_message, to_handles

from linq_mcp.policy import Allowed, CallReach, Policy, Refused, call_reach, tool_reach
from linq_mcp.tools.catalog import load_catalog

MakePolicy = Callable[..., Policy]
STRICT = {"allow_recipients": ["+1555*"], "confirm": "never"}
ME = {"handle": "+16660009999", "is_me": True}


def operations() -> list[dict[str, str]]:
    """Every tool of both APIs (V3 and the legacy V2), from the shipped catalog."""
    return [{"tool": t.name, "effect": t.effect} for t in load_catalog().tools]


def test_every_tool_that_sends_or_is_seen_has_a_known_reach() -> None:
    gated = [op["tool"] for op in operations() if op["effect"] in ("send", "visible")]
    assert gated and [tool for tool in gated if tool_reach(tool) is None] == []


def test_every_send_counts_toward_the_caps() -> None:
    sends = [op["tool"] for op in operations() if op["effect"] == "send"]
    assert all(reach.sends for reach in map(tool_reach, sends) if reach is not None)


def test_reach_data_for_a_tool_the_spec_lacks_is_refused_when_compiling() -> None:
    from linq_mcp.api.errors import CatalogError
    from linq_mcp.tools.catalog import compile_catalog, load_facts, load_spec

    facts = load_facts()
    facts["tools"]["send_carrier_pigeon"] = {"reach": {"direct": ["to"], "sends": True}}
    with pytest.raises(CatalogError, match="send_carrier_pigeon"):
        compile_catalog(load_spec(), facts)


async def test_a_capability_check_is_a_read_and_reaches_nobody(make_policy: MakePolicy) -> None:
    decision = await make_policy(**STRICT).check("check_imessage", "read", {"address": "+16660000000"})
    assert isinstance(decision, Allowed) and decision.reached == ()


async def test_an_unknown_tool_that_sends_is_refused(make_policy: MakePolicy) -> None:
    decision = await make_policy().check("send_carrier_pigeon", "send", {"to": ["+15550000001"]})
    assert isinstance(decision, Refused) and decision.rule == "unknown_tool"


async def test_a_send_into_a_chat_checks_its_participants(make_policy: MakePolicy) -> None:
    args = {"chat_id": "c1", "message": text_message()}
    decision = await make_policy(**STRICT).check(
        "send_message", "send", args, chat_participants=[ME, {"handle": "+15550000001"}, {"handle": "+16660000000"}]
    )
    assert isinstance(decision, Refused) and decision.handle == "+16660000000"


async def test_our_own_line_in_a_chat_is_not_a_recipient(make_policy: MakePolicy) -> None:
    args = {"chat_id": "c1", "message": text_message()}
    decision = await make_policy(**STRICT).check(
        "send_message", "send", args, chat_participants=[ME, {"handle": "+15550000001"}]
    )
    assert isinstance(decision, Allowed) and decision.reached == ("+15550000001",)


async def test_a_chat_tool_without_participants_is_refused(make_policy: MakePolicy) -> None:
    decision = await make_policy().check("start_typing", "visible", {"chat_id": "c1"})
    assert isinstance(decision, Refused) and decision.rule == "chat_participants"


async def test_a_reaction_on_a_strangers_message_is_refused(make_policy: MakePolicy) -> None:
    args = {"message_id": "m1", "operation": "add", "type": "love"}
    decision = await make_policy(**STRICT).check(
        "react_to_message", "visible", args, chat_participants=[ME, {"handle": "+16660000000"}]
    )
    assert isinstance(decision, Refused) and decision.rule == "allow_recipients"


async def test_the_sending_line_and_excluded_lines_are_not_recipients(make_policy: MakePolicy) -> None:
    policy = make_policy(**STRICT)
    created = await policy.check("create_chat", "send", {"from": "+16660009999", **to_handles("+15550000001")})
    sent = await policy.check(SEND, "send", to_handles("+15550000001", exclude_from=["+16660009998"]))
    assert isinstance(created, Allowed) and created.reached == ("+15550000001",)
    assert isinstance(sent, Allowed) and sent.reached == ("+15550000001",)


@pytest.mark.parametrize(
    ("tool", "effect", "args"),
    [
        ("add_participant", "visible", {"chat_id": "c1", "handle": "+16660000000"}),
        ("connect_payment_handle", "send", {"handle": "+16660000000"}),
        ("create_payment", "create", {"handle": "+16660000000", "amount_cents": 100, "currency": "usd"}),
        ("create_payment_request", "create", {"payer_handle": "+16660000000", "rail": "natural", "amount": 1}),
    ],
)
async def test_tools_that_name_a_person_are_held_to_the_allowlist(
    make_policy: MakePolicy, tool: str, effect: str, args: dict[str, object]
) -> None:
    decision = await make_policy(**STRICT).check(tool, effect, args, chat_participants=[ME])
    assert isinstance(decision, Refused) and decision.handle == "+16660000000"


async def test_removing_a_stranger_is_not_held_back(make_policy: MakePolicy) -> None:
    args = {"chat_id": "c1", "handle": "+16660000000"}
    decision = await make_policy(**STRICT).check("remove_participant", "destructive", args)
    assert isinstance(decision, Allowed)


def test_call_reach_names_the_chat_to_fetch_and_the_handles_named() -> None:
    reached = call_reach("add_participant", "visible", {"chat_id": "c1", "handle": "+15550000001"})
    assert reached == CallReach(handles=("+15550000001",), chat_id="c1", message_id=None, gated=True)


def test_call_reach_of_a_message_tool_names_the_message() -> None:
    assert call_reach("edit_message", "visible", {"message_id": "m1", "text": "x"}).message_id == "m1"


def test_call_reach_of_a_read_is_not_gated() -> None:
    assert call_reach("check_rcs", "read", {"address": "+15550000001"}) == CallReach()


def test_every_name_the_public_api_lists_can_be_imported() -> None:
    import importlib

    policy = importlib.import_module("linq_mcp.policy")
    for name in policy.__all__:
        assert getattr(policy, name) is not None, name


def test_the_policy_package_loads_only_its_config_until_a_name_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from linq_mcp.policy import SafetyConfig; "
        "print(sorted(m for m in sys.modules if m.startswith('linq_mcp.policy.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "linq_mcp.policy.engine" not in out and "linq_mcp.policy.config" in out
