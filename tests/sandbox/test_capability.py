"""Capability checks: answers from the simulated people, the documented rule for strangers, limits."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types import HandleCheckResponse

from linq_mcp.sandbox.config import SandboxConfig

AVA = "+15551230001"  # iMessage, RCS, SMS
SAM = "+15551230002"  # SMS only
RITA = "+15551230004"  # RCS, SMS


async def _imessage(sdk: Any, address: str, **kw: Any) -> dict[str, Any]:
    raw = await sdk.capability.with_raw_response.check_i_message(address=address, **kw)
    body: dict[str, Any] = raw.http_response.json()
    HandleCheckResponse.model_validate(body)
    return body


async def _rcs(sdk: Any, address: str, **kw: Any) -> dict[str, Any]:
    raw = await sdk.capability.with_raw_response.check_RCS(address=address, **kw)
    body: dict[str, Any] = raw.http_response.json()
    HandleCheckResponse.model_validate(body)
    return body


async def test_imessage_person_is_available(sdk: Any) -> None:
    assert await _imessage(sdk, AVA) == {"address": AVA, "available": True, "selected_service": "iMessage"}


async def test_sms_only_person_is_not_supported_and_falls_to_sms(sdk: Any) -> None:
    body = await _imessage(sdk, SAM)
    assert body == {"address": SAM, "available": False, "reason": "not_supported", "selected_service": "SMS"}


async def test_rcs_person_without_imessage_selects_rcs(sdk: Any) -> None:
    body = await _imessage(sdk, RITA)
    assert body["available"] is False and body["selected_service"] == "RCS"


async def test_email_handle_can_be_checked_for_imessage(sdk: Any) -> None:
    body = await _imessage(sdk, "ava@example.com")
    assert body["available"] is True


async def test_stranger_answer_follows_the_last_digit_rule(sdk: Any) -> None:
    assert (await _imessage(sdk, "+14155550123"))["available"] is True
    assert (await _imessage(sdk, "+14155550127"))["available"] is False
    assert (await _rcs(sdk, "+14155550127"))["available"] is True
    assert (await _rcs(sdk, "+14155550129"))["available"] is False


async def test_rcs_check_reads_the_persons_services(sdk: Any) -> None:
    assert (await _rcs(sdk, RITA))["available"] is True
    assert await _rcs(sdk, SAM) == {
        "address": SAM,
        "available": False,
        "reason": "not_supported",
        "selected_service": "SMS",
    }


async def test_rcs_check_rejects_an_email(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.capability.check_RCS(address="ava@example.com")


async def test_bad_address_is_400(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.capability.check_i_message(address="not a handle")


async def test_missing_address_is_1001(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.post("/v3/capability/check_imessage", body={}, cast_to=object)
    assert exc.value.body["code"] == 1001  # type: ignore[index]


async def test_from_that_is_not_your_line_is_403(sdk: Any) -> None:
    with pytest.raises(linq.PermissionDeniedError) as exc:
        await sdk.capability.check_i_message(address=AVA, from_="+14155550000")
    assert exc.value.body["code"] == 2006  # type: ignore[index]


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(seed=1)])
async def test_checks_are_rate_limited_per_line(sdk: Any, sandbox_config: SandboxConfig) -> None:
    sandbox_config.limits.capability_checks = 2
    await sdk.capability.check_i_message(address=AVA, from_="+15550100001")
    await sdk.capability.check_RCS(address=AVA, from_="+15550100001")
    with pytest.raises(linq.RateLimitError) as exc:
        await sdk.capability.check_i_message(address=AVA, from_="+15550100001")
    assert exc.value.body["code"] == 1007  # type: ignore[index]
    assert int(exc.value.response.headers["retry-after"]) >= 1
    await sdk.capability.check_i_message(address=AVA, from_="+15550100002")  # another line has its own budget
