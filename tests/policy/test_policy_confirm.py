"""Confirmation: first contact asks first; tokens are single-use, exact, unforgeable and expire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import SEND, Clock, to_handles

from linq_mcp.policy import Allowed, ConfirmationRequired, Policy, Refused, SafetyConfig

MakePolicy = Callable[..., Policy]
ALICE = "+15550000001"


async def ask(policy: Policy, args: dict[str, Any], **kw: Any) -> ConfirmationRequired:
    decision = await policy.check(SEND, "send", args, **kw)
    assert isinstance(decision, ConfirmationRequired)
    return decision


async def test_first_contact_needs_confirmation_with_a_preview(make_policy: MakePolicy) -> None:
    policy = make_policy()
    decision = await ask(policy, to_handles(ALICE, text="Dinner at 8?"))
    result = decision.as_result()
    assert result["error"] == "confirmation_required" and result["confirm_token"] == decision.token
    assert result["preview"]["recipients"] == [ALICE]
    assert 'text: "Dinner at 8?"' in result["preview"]["content"]


async def test_the_token_lets_the_identical_call_through_once(make_policy: MakePolicy) -> None:
    policy = make_policy()
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    decision = await policy.check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(decision, Allowed) and decision.token_consumed


async def test_a_known_contact_needs_no_confirmation(make_policy: MakePolicy) -> None:
    policy = make_policy()
    await policy.record_send(SEND, [ALICE])
    assert isinstance(await policy.check(SEND, "send", to_handles("+1 (555) 000-0001")), Allowed)


async def test_known_contacts_survive_a_restart(make_policy: MakePolicy) -> None:
    await make_policy().record_send(SEND, [ALICE])
    assert isinstance(await make_policy().check(SEND, "send", to_handles(ALICE)), Allowed)


async def test_confirm_always_asks_even_for_known_contacts(make_policy: MakePolicy) -> None:
    policy = make_policy(confirm="always")
    await policy.record_send(SEND, [ALICE])
    await ask(policy, to_handles(ALICE))


async def test_confirm_never_does_not_ask(make_policy: MakePolicy) -> None:
    assert isinstance(await make_policy(confirm="never").check(SEND, "send", to_handles(ALICE)), Allowed)


async def test_a_reused_token_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy(confirm="always")
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    await policy.check(SEND, "send", {**args, "confirm_token": token})
    again = await policy.check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(again, Refused) and again.rule == "confirm_token" and "already used" in again.message


async def test_a_used_token_stays_used_after_a_restart(make_policy: MakePolicy) -> None:
    policy = make_policy(confirm="always")
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    await policy.check(SEND, "send", {**args, "confirm_token": token})
    again = await make_policy(confirm="always").check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(again, Refused) and "already used" in again.message


async def test_a_token_issued_before_a_restart_still_works(make_policy: MakePolicy) -> None:
    args = to_handles(ALICE)
    token = (await ask(make_policy(), args)).token
    assert isinstance(await make_policy().check(SEND, "send", {**args, "confirm_token": token}), Allowed)


async def test_a_token_for_other_arguments_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy()
    token = (await ask(policy, to_handles(ALICE, text="See you at 8"))).token
    changed = await policy.check(SEND, "send", to_handles(ALICE, text="Send me your password", confirm_token=token))
    assert isinstance(changed, Refused) and changed.rule == "confirm_token"
    assert "different call" in changed.message


async def test_a_token_for_another_tool_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy()
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    other = await policy.check("create_chat", "send", {**args, "confirm_token": token})
    assert isinstance(other, Refused) and "different call" in other.message


async def test_an_expired_token_is_refused(make_policy: MakePolicy, clock: Clock) -> None:
    policy = make_policy()
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    clock.advance(601)
    expired = await policy.check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(expired, Refused) and "expired" in expired.message


async def test_a_token_from_another_server_is_refused(make_policy: MakePolicy, tmp_path: Any) -> None:
    elsewhere = Policy(make_policy().config, tmp_path / "other.sqlite3")
    args = to_handles(ALICE)
    token = (await ask(elsewhere, args)).token
    elsewhere.close()
    forged = await make_policy().check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(forged, Refused) and "not issued by this server" in forged.message


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 200), replacement=st.sampled_from("AZaz09-_."))
def test_an_altered_token_is_never_accepted(position: int, replacement: str) -> None:
    """Changing any one character of a real token (expiry, nonce, digest or MAC) is refused."""

    async def run() -> None:
        policy = Policy(SafetyConfig(), ":memory:")
        args = to_handles(ALICE)
        token = (await ask(policy, args)).token
        i = position % len(token)
        altered = token[:i] + replacement + token[i + 1 :]
        decision = await policy.check(SEND, "send", {**args, "confirm_token": altered})
        assert isinstance(decision, Refused) if altered != token else isinstance(decision, Allowed)
        policy.close()

    anyio.run(run)


async def test_garbage_in_confirm_token_is_refused(make_policy: MakePolicy) -> None:
    decision = await make_policy().check(SEND, "send", to_handles(ALICE, confirm_token="yes please"))
    assert isinstance(decision, Refused) and decision.rule == "confirm_token"


async def test_the_idempotency_key_does_not_change_what_is_confirmed(make_policy: MakePolicy) -> None:
    policy = make_policy()
    token = (await ask(policy, to_handles(ALICE, idempotency_key="k1"))).token
    decision = await policy.check(SEND, "send", to_handles(ALICE, idempotency_key="k2", confirm_token=token))
    assert isinstance(decision, Allowed)


async def test_a_refused_call_does_not_spend_the_token(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1)
    args = to_handles(ALICE)
    token = (await ask(policy, args)).token
    await policy.record_send(SEND, ["+15550000002"])  # the cap is now full
    capped = await policy.check(SEND, "send", {**args, "confirm_token": token})
    assert isinstance(capped, Refused) and capped.rule == "max_sends_per_minute"


async def test_with_elicitation_the_person_gets_a_prompt_with_the_exact_text(make_policy: MakePolicy) -> None:
    decision = await ask(make_policy(), to_handles(ALICE, text="Running late"), confirm_supported=True)
    assert decision.via == "elicitation"
    assert ALICE in decision.prompt and '"Running late"' in decision.prompt


async def test_a_dry_run_previews_without_asking_or_spending(make_policy: MakePolicy) -> None:
    policy = make_policy()
    args = to_handles(ALICE, dry_run=True)
    decision = await policy.check(SEND, "send", args)
    assert isinstance(decision, Allowed) and decision.dry_run and not decision.record
    assert decision.confirm_token is not None
    real = await policy.check(SEND, "send", to_handles(ALICE, confirm_token=decision.confirm_token))
    assert isinstance(real, Allowed) and real.token_consumed


async def test_adding_a_new_person_to_a_group_needs_confirmation(make_policy: MakePolicy) -> None:
    policy = make_policy()
    chat: list[dict[str, Any]] = [
        {"handle": "+15550009999", "is_me": True},
        {"handle": ALICE},
        {"handle": "+15550000002"},
    ]
    await policy.record_send(SEND, [ALICE, "+15550000002"])
    decision = await policy.check(
        "add_participant", "visible", {"chat_id": "c1", "handle": "+15550000003"}, chat_participants=chat
    )
    assert isinstance(decision, ConfirmationRequired) and "+15550000003" in decision.reason
