"""Where the person can be asked, the policy has no token path; declines are remembered per call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policy_helpers import SEND, Clock, to_handles

from linq_mcp.policy import Allowed, ConfirmationRequired, Policy, Refused

MakePolicy = Callable[..., Policy]
ALICE = "+15550000001"


async def token_for(policy: Policy, args: dict[str, Any]) -> str:
    decision = await policy.check(SEND, "send", args)
    assert isinstance(decision, ConfirmationRequired) and decision.via == "token"
    return decision.token


async def test_a_dry_run_where_the_person_can_be_asked_mints_no_token(make_policy: MakePolicy) -> None:
    decision = await make_policy().check(SEND, "send", to_handles(ALICE, dry_run=True), confirm_supported=True)
    assert isinstance(decision, Allowed) and decision.dry_run
    assert decision.needs_confirmation and decision.confirm_token is None


async def test_a_confirm_token_argument_is_no_answer_where_the_person_can_be_asked(make_policy: MakePolicy) -> None:
    policy = make_policy()
    token = await token_for(policy, to_handles(ALICE))
    decision = await policy.check(SEND, "send", to_handles(ALICE, confirm_token=token), confirm_supported=True)
    assert isinstance(decision, ConfirmationRequired) and decision.via == "elicitation"


async def test_the_persons_yes_lets_the_call_through_once(make_policy: MakePolicy) -> None:
    policy = make_policy(confirm="always")
    asked = await policy.check(SEND, "send", to_handles(ALICE), confirm_supported=True)
    assert isinstance(asked, ConfirmationRequired)
    yes = await policy.check(SEND, "send", to_handles(ALICE), confirm_supported=True, answered_token=asked.token)
    assert isinstance(yes, Allowed) and yes.token_consumed
    again = await policy.check(SEND, "send", to_handles(ALICE), confirm_supported=True, answered_token=asked.token)
    assert isinstance(again, Refused) and again.rule == "confirm_token"


async def test_a_yes_to_one_message_is_not_a_yes_to_another(make_policy: MakePolicy) -> None:
    policy = make_policy()
    asked = await policy.check(SEND, "send", to_handles(ALICE, text="a"), confirm_supported=True)
    assert isinstance(asked, ConfirmationRequired)
    other = await policy.check(
        SEND, "send", to_handles(ALICE, text="b"), confirm_supported=True, answered_token=asked.token
    )
    assert isinstance(other, Refused) and "different call" in other.message


async def test_confirm_fallback_refuse_refuses_and_ignores_tokens(make_policy: MakePolicy) -> None:
    minted = await token_for(make_policy(), to_handles(ALICE))  # issued before the operator said refuse
    policy = make_policy(confirm_fallback="refuse")
    refused = await policy.check(SEND, "send", to_handles(ALICE))
    assert isinstance(refused, Refused) and refused.rule == "confirm_fallback"
    with_token = await policy.check(SEND, "send", to_handles(ALICE, confirm_token=minted))
    assert isinstance(with_token, Refused) and with_token.rule == "confirm_fallback"
    dry = await policy.check(SEND, "send", to_handles(ALICE, dry_run=True))
    assert isinstance(dry, Allowed) and dry.confirm_token is None and dry.needs_confirmation


async def test_a_decline_holds_for_that_exact_call_for_an_hour(make_policy: MakePolicy, clock: Clock) -> None:
    policy = make_policy()
    await policy.record_decline(SEND, to_handles(ALICE, text="no", idempotency_key="k1"))
    assert await policy.declined_at(SEND, to_handles(ALICE, text="no", idempotency_key="k2", dry_run=True))
    assert await policy.declined_at(SEND, to_handles(ALICE, text="something else")) is None
    assert await make_policy().declined_at(SEND, to_handles(ALICE, text="no")), "a restart remembers it"
    clock.advance(3601)
    assert await policy.declined_at(SEND, to_handles(ALICE, text="no")) is None
