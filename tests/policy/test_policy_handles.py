"""Allow/block lists cannot be slipped past by spelling a handle differently."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import SEND, to_handles

from linq_mcp.policy import Allowed, Policy, Refused, SafetyConfig, normalize_handle
from linq_mcp.policy.handles import parse_pattern

# Digit alphabets a number may arrive in: ASCII, fullwidth, Arabic-Indic, Extended Arabic-Indic, Devanagari.
DIGIT_SETS = ("0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९")
SEPARATORS = ("", " ", "-", ".", "  ", " - ", "\u00a0", "\u200b")

national_numbers = st.builds(
    lambda area, exchange, line: f"{area}{exchange}{line:04d}",
    st.integers(200, 999).map(str),
    st.integers(200, 999).map(str),
    st.integers(0, 9999),
)


@st.composite
def spellings(draw: st.DrawFn, national: str) -> str:
    """One way a person might write +1<national>: formats, separators, digit scripts, mixed."""
    form = draw(st.sampled_from(["e164", "plus_spaced", "double_zero", "national", "trunk", "brackets", "idd"]))
    area, rest = national[:3], national[3:]
    digits = {
        "e164": "1" + national,
        "plus_spaced": "1" + national,
        "double_zero": "001" + national,
        "national": national,
        "trunk": "1" + national,
        "brackets": national,
        "idd": "0111" + national,
    }[form]
    out = []
    for i, ch in enumerate(digits):
        if i and draw(st.booleans()):
            out.append(draw(st.sampled_from(SEPARATORS)))
        out.append(draw(st.sampled_from(DIGIT_SETS))[int(ch)])
    text = "".join(out)
    if form == "brackets":
        text = f"({area}) {rest[:3]}-{rest[3:]}"
    if form in ("e164", "plus_spaced"):
        text = draw(st.sampled_from(["+", "＋"])) + text
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\n"]))


def decide(config: SafetyConfig, handle: str) -> Allowed | Refused:
    """The engine's verdict on a plain send to ``handle`` (confirmation off), on a fresh in-memory DB."""

    async def run() -> Allowed | Refused:
        policy = Policy(config, ":memory:")
        try:
            decision = await policy.check(SEND, "send", to_handles(handle))
        finally:
            policy.close()
        assert isinstance(decision, Allowed | Refused)
        return decision

    return anyio.run(run)


PREFIX = SafetyConfig(allow_recipients=("+1555*",), confirm="never")
EXACT = SafetyConfig(allow_recipients=("+1 (415) 555-0100",), confirm="never")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), national=national_numbers)
def test_every_spelling_normalises_to_the_same_e164(data: st.DataObject, national: str) -> None:
    assert normalize_handle(data.draw(spellings(national)), "US") == "+1" + national


@settings(max_examples=60, deadline=None)
@given(data=st.data(), national=national_numbers.filter(lambda n: not n.startswith("555")))
def test_no_spelling_of_a_number_outside_the_prefix_is_allowed(data: st.DataObject, national: str) -> None:
    decision = decide(PREFIX, data.draw(spellings(national)))
    assert isinstance(decision, Refused) and decision.rule == "allow_recipients"


@settings(max_examples=60, deadline=None)
@given(data=st.data(), national=national_numbers.map(lambda n: "555" + n[3:]))
def test_every_spelling_of_a_number_inside_the_prefix_is_allowed(data: st.DataObject, national: str) -> None:
    decision = decide(PREFIX, data.draw(spellings(national)))
    assert isinstance(decision, Allowed) and decision.reached == ("+1" + national,)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_spelling_of_an_exact_allowed_number_is_allowed(data: st.DataObject) -> None:
    assert isinstance(decide(EXACT, data.draw(spellings("4155550100"))), Allowed)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), national=national_numbers.filter(lambda n: n != "4155550100"))
def test_no_spelling_of_another_number_passes_an_exact_entry(data: st.DataObject, national: str) -> None:
    assert isinstance(decide(EXACT, data.draw(spellings(national))), Refused)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), national=national_numbers)
def test_no_spelling_of_a_blocked_number_gets_through(data: st.DataObject, national: str) -> None:
    config = SafetyConfig(block_recipients=("+1" + national,), confirm="never")
    decision = decide(config, data.draw(spellings(national)))
    assert isinstance(decision, Refused) and decision.rule == "block_recipients"


def _case_mix(data: st.DataObject, text: str) -> str:
    return "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in text)


local_parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum()
)
whitespace = st.sampled_from(["", " ", "\t", "\n", "\u00a0", " \u3000"])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), local=local_parts)
def test_every_spelling_of_an_allowed_email_is_allowed(data: st.DataObject, local: str) -> None:
    config = SafetyConfig(allow_recipients=("*@example.com",), confirm="never")
    handle = data.draw(whitespace) + _case_mix(data, f"{local}@example.com") + data.draw(whitespace)
    decision = decide(config, handle)
    assert isinstance(decision, Allowed) and decision.reached == (f"{local}@example.com",)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    local=local_parts,
    domain=st.sampled_from(["example.org", "example.co", "sub.example.com", "example.com.evil.net", "exаmple.com"]),
)
def test_no_spelling_of_an_email_outside_the_domain_is_allowed(data: st.DataObject, local: str, domain: str) -> None:
    config = SafetyConfig(allow_recipients=("*@example.com",), confirm="never")
    handle = data.draw(whitespace) + _case_mix(data, f"{local}@{domain}") + data.draw(whitespace)
    assert isinstance(decide(config, handle), Refused)


@pytest.mark.parametrize(
    "raw",
    ["+1 555 123 4567 ext 5", "1-800-FLOWERS", "tel:+15551234567", "+15551234567 or +16665550000", "", "a@@b.com"],
)
def test_an_unreadable_handle_is_refused_when_an_allowlist_is_set(raw: str) -> None:
    decision = decide(PREFIX, raw)
    assert isinstance(decision, Refused) and decision.rule == "allow_recipients"


def test_block_beats_allow() -> None:
    config = SafetyConfig(allow_recipients=("+1555*",), block_recipients=("+15550001111",), confirm="never")
    decision = decide(config, "+1 555 000 1111")
    assert isinstance(decision, Refused) and decision.rule == "block_recipients"


def test_a_refusal_names_the_handle_the_rule_and_the_fix() -> None:
    decision = decide(PREFIX, "+1 (666) 999-0000")
    assert isinstance(decision, Refused)
    assert decision.handle == "+16669990000"
    assert "+16669990000 is not in allow_recipients (+1555*)" in decision.message
    assert "ask the operator to add" in decision.message


def test_national_numbers_use_the_configured_region() -> None:
    config = SafetyConfig(allow_recipients=("+4420*",), default_region="GB", confirm="never")
    assert isinstance(decide(config, "020 7946 0958"), Allowed)


def test_a_phone_prefix_without_country_code_is_rejected_with_an_example() -> None:
    with pytest.raises(ValueError, match=r'"\+1555\*"'):
        parse_pattern("1555*")
