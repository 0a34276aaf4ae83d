"""Phone numbers: list, forwarding, legacy list, smart number assignment, reputation audits."""

from __future__ import annotations

from typing import Any

import httpx
import linq
import pytest
from linq.types import (
    AvailableNumberRetrieveResponse,
    PhoneNumberListResponse,
    PhonenumberListResponse,
    PhoneNumberUpdateResponse,
    ReputationAudit,
    ReputationAuditStarted,
)

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.config import LineConfig, SandboxConfig
from linq_mcp.sandbox.transport import SandboxTransport

IMSG = "+15550100001"
RCS = "+15550100002"


def _line_id(sandbox: Sandbox, number: str) -> str:
    line = sandbox.world.line_by_number(number)
    assert line is not None
    return str(line["id"])


async def test_list_validates_with_reputation_and_line_type(sdk: Any) -> None:
    raw = await sdk.phone_numbers.with_raw_response.list()
    body = raw.http_response.json()
    PhoneNumberListResponse.model_validate(body)
    assert [(n["phone_number"], n["line_type"]) for n in body["phone_numbers"]] == [(IMSG, "iMessage"), (RCS, "RCS")]
    assert body["phone_numbers"][0]["reputation"]["status"] == "HEALTHY"
    assert body["phone_numbers"][0]["forwarding_number"] is None


async def test_update_sets_and_clears_forwarding(sdk: Any, sandbox: Sandbox) -> None:
    line_id = _line_id(sandbox, IMSG)
    raw = await sdk.phone_numbers.with_raw_response.update(line_id, forwarding_number="+14155550123")
    body = raw.http_response.json()
    PhoneNumberUpdateResponse.model_validate(body)
    assert body == {"id": line_id, "phone_number": IMSG, "forwarding_number": "+14155550123"}
    cleared = await sdk.phone_numbers.update(line_id, forwarding_number="")
    assert cleared.forwarding_number is None
    listed = await sdk.phone_numbers.list()
    assert listed.phone_numbers[0].forwarding_number is None


async def test_update_by_number_instead_of_id_is_404_2019(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.phone_numbers.update(IMSG, forwarding_number="+14155550123")
    assert exc.value.body["code"] == 2019  # type: ignore[index]


async def test_update_with_bad_forwarding_number_is_1002(sdk: Any, sandbox: Sandbox) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.phone_numbers.update(_line_id(sandbox, IMSG), forwarding_number="415-555-0123")
    assert exc.value.body["code"] == 1002  # type: ignore[index]


async def test_update_without_forwarding_field_is_1001(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    resp = await http.put(f"/v3/phone_numbers/{_line_id(sandbox, IMSG)}", json={})
    assert resp.json()["error"]["code"] == 1001


async def test_update_emits_forwarding_updated(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.phone_numbers.update(_line_id(sandbox, IMSG), forwarding_number="+14155550123")
    event = sandbox.world.events[-1]
    assert event.event_type == "phone_number.forwarding_updated"
    assert event.phone_number == IMSG
    assert event.data["change"] == {"from": None, "to": "+14155550123"}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_legacy_list_has_null_type_and_country(sdk: Any) -> None:
    raw = await sdk.phonenumbers.with_raw_response.list()
    body = raw.http_response.json()
    PhonenumberListResponse.model_validate(body)
    assert all(n["type"] is None and n["country_code"] is None for n in body["phone_numbers"])


async def test_available_number_rotates_through_lines(sdk: Any) -> None:
    raw = await sdk.available_number.with_raw_response.retrieve()
    AvailableNumberRetrieveResponse.model_validate(raw.http_response.json())
    picks = [raw.http_response.json()["phone_number"]]
    for _ in range(3):
        picks.append((await sdk.available_number.retrieve()).phone_number)
    assert picks == [IMSG, RCS, IMSG, RCS]


async def test_available_number_filters_by_type(sdk: Any) -> None:
    for _ in range(2):
        assert (await sdk.available_number.retrieve(type="RCS")).phone_number == RCS


async def test_available_number_honours_exclusions(sdk: Any) -> None:
    for _ in range(2):
        assert (await sdk.available_number.retrieve(exclude_from=[IMSG])).phone_number == RCS


async def test_excluding_every_line_is_400(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.available_number.retrieve(exclude_from=[IMSG, RCS])


async def test_non_e164_exclusion_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.available_number.retrieve(exclude_from=["4155551234"])
    assert exc.value.body["code"] == 1002  # type: ignore[index]


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(seed=1, lines=[LineConfig("+15550100001")])])
async def test_no_line_of_the_type_is_503(sdk: Any) -> None:
    with pytest.raises(linq.InternalServerError) as exc:
        await sdk.available_number.retrieve(type="RCS")
    assert exc.value.status_code == 503


async def test_vcf_url_serves_a_vcard_with_backups(sdk: Any, sandbox: Sandbox) -> None:
    picked = await sdk.available_number.retrieve()
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as web:
        resp = await web.get(picked.vcf_url)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/vcard")
    assert f"TEL;TYPE=CELL,PREF:{picked.phone_number}" in resp.text
    assert f"TEL;TYPE=CELL:{RCS}" in resp.text


async def test_audit_starts_pending_then_completes(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    raw = await sdk.phone_numbers.with_raw_response.start_reputation_audit(IMSG)
    assert raw.http_response.status_code == 202
    started = raw.http_response.json()
    ReputationAuditStarted.model_validate(started)
    pending = await sdk.phone_numbers.get_reputation_audit(started["audit_id"], phone_number=IMSG)
    assert pending.status == "pending"
    sandbox.world.clock.advance(sandbox.world.config.timing.reputation_audit)
    raw = await sdk.phone_numbers.with_raw_response.get_reputation_audit(started["audit_id"], phone_number=IMSG)
    body = raw.http_response.json()
    ReputationAudit.model_validate(body)
    assert body["status"] == "complete"
    assert body["phone"] == IMSG
    assert body["report"]["severity"] == "HEALTHY"
    assert body["report"]["primary_driver"] == ""


async def test_second_start_while_running_returns_the_same_audit(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    first = await sdk.phone_numbers.start_reputation_audit(IMSG)
    second = await sdk.phone_numbers.start_reputation_audit(IMSG)
    assert first.audit_id == second.audit_id


async def test_start_after_completion_is_429_until_cooldown(sdk: Any, sandbox: Sandbox) -> None:
    world = sandbox.world
    world.clock.freeze()
    await sdk.phone_numbers.start_reputation_audit(IMSG)
    world.clock.advance(world.config.timing.reputation_audit)
    await world.scheduler.run_due()
    with pytest.raises(linq.RateLimitError) as exc:
        await sdk.phone_numbers.start_reputation_audit(IMSG)
    assert int(exc.value.response.headers["retry-after"]) == int(world.config.limits.reputation_audit_cooldown)
    world.clock.advance(world.config.limits.reputation_audit_cooldown)
    again = await sdk.phone_numbers.start_reputation_audit(IMSG)
    assert again.status == "pending"


async def test_audit_from_another_line_is_404(sdk: Any) -> None:
    started = await sdk.phone_numbers.start_reputation_audit(IMSG)
    with pytest.raises(linq.NotFoundError):
        await sdk.phone_numbers.get_reputation_audit(started.audit_id, phone_number=RCS)


async def test_audit_on_a_number_that_is_not_yours_is_404_2019(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.phone_numbers.start_reputation_audit("+14155550000")
    assert exc.value.body["code"] == 2019  # type: ignore[index]


async def test_flagged_line_report_names_the_flagged_driver(sdk: Any, sandbox: Sandbox) -> None:
    world = sandbox.world
    world.clock.freeze()
    line = world.line_by_number(RCS)
    assert line is not None
    line["status"] = "FLAGGED"
    started = await sdk.phone_numbers.start_reputation_audit(RCS)
    world.clock.advance(world.config.timing.reputation_audit)
    audit = await sdk.phone_numbers.get_reputation_audit(started.audit_id, phone_number=RCS)
    assert audit.report is not None and audit.report.primary_driver == "flagged"
