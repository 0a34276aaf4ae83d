"""Dangerous surfaces: payments only when named; card credentials only with an explicit yes."""

from __future__ import annotations

from linq_mcp.policy import SafetyConfig, tool_allowed_by_safety


def test_payment_credentials_are_off_by_default() -> None:
    assert not tool_allowed_by_safety(
        "get_payment_credentials", "payments", SafetyConfig(), named_toolsets={"payments"}
    )


def test_payment_credentials_need_allow_payment_credentials() -> None:
    config = SafetyConfig(allow_payment_credentials=True)
    assert tool_allowed_by_safety("get_payment_credentials", "payments", config, named_toolsets={"payments"})


def test_payments_are_off_unless_the_toolset_is_named() -> None:
    assert not tool_allowed_by_safety("create_payment", "payments", SafetyConfig(), named_toolsets={"messaging"})


def test_a_payment_tool_named_on_its_own_is_allowed() -> None:
    assert tool_allowed_by_safety(
        "get_payment", "payments", SafetyConfig(), named_toolsets=(), named_tools={"get_payment"}
    )


def test_other_toolsets_are_not_affected() -> None:
    assert tool_allowed_by_safety("send_message", "messaging", SafetyConfig(), named_toolsets=())
