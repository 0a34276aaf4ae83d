"""Contact cards: create once, read, merge-update, and the shared per-number budget."""

from __future__ import annotations

from typing import Any

import httpx
import linq
import pytest
from linq.types import ContactCardRetrieveResponse, SetContactCard

from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"


async def test_create_returns_an_active_card(sdk: Any) -> None:
    raw = await sdk.contact_card.with_raw_response.create(phone_number=LINE, first_name="Acme", last_name="Support")
    body = raw.http_response.json()
    SetContactCard.model_validate(body)
    assert body == {
        "phone_number": LINE,
        "first_name": "Acme",
        "last_name": "Support",
        "image_url": None,
        "is_active": True,
    }


async def test_second_create_is_409_2014(sdk: Any) -> None:
    await sdk.contact_card.create(phone_number=LINE, first_name="Acme")
    with pytest.raises(linq.ConflictError) as exc:
        await sdk.contact_card.create(phone_number=LINE, first_name="Other")
    assert exc.value.body["code"] == 2014  # type: ignore[index]


async def test_retrieve_lists_cards_and_filters_by_number(sdk: Any) -> None:
    await sdk.contact_card.create(phone_number=LINE, first_name="Acme")
    await sdk.contact_card.create(phone_number="+15550100002", first_name="Beta")
    raw = await sdk.contact_card.with_raw_response.retrieve()
    body = raw.http_response.json()
    ContactCardRetrieveResponse.model_validate(body)
    assert [c["first_name"] for c in body["contact_cards"]] == ["Acme", "Beta"]
    one = await sdk.contact_card.retrieve(phone_number=LINE)
    assert [c.first_name for c in one.contact_cards] == ["Acme"]


async def test_retrieve_for_a_number_without_card_is_404_2012(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.contact_card.retrieve(phone_number=LINE)
    assert exc.value.body["code"] == 2012  # type: ignore[index]


async def test_patch_merges_only_given_fields(sdk: Any) -> None:
    await sdk.contact_card.create(phone_number=LINE, first_name="Acme", last_name="Support")
    raw = await sdk.contact_card.with_raw_response.update(phone_number=LINE, image_url="https://cdn.example.com/a.png")
    body = raw.http_response.json()
    SetContactCard.model_validate(body)
    assert body["first_name"] == "Acme"
    assert body["last_name"] == "Support"
    assert body["image_url"] == "https://cdn.example.com/a.png"


async def test_patch_without_a_card_is_404_2012(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.contact_card.update(phone_number=LINE, first_name="X")
    assert exc.value.body["code"] == 2012  # type: ignore[index]


async def test_patch_needs_the_phone_number_query(http: httpx.AsyncClient) -> None:
    resp = await http.patch("/v3/contact_card", json={"first_name": "X"})
    assert resp.json()["error"]["code"] == 1001


async def test_post_and_patch_share_three_calls_per_ten_minutes(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    await sdk.contact_card.create(phone_number=LINE, first_name="A")
    await sdk.contact_card.update(phone_number=LINE, first_name="B")
    await sdk.contact_card.update(phone_number=LINE, first_name="C")
    with pytest.raises(linq.RateLimitError) as exc:
        await sdk.contact_card.update(phone_number=LINE, first_name="D")
    assert int(exc.value.response.headers["retry-after"]) == 600
    sandbox.world.clock.advance(600)
    assert (await sdk.contact_card.update(phone_number=LINE, first_name="D")).first_name == "D"


async def test_card_for_a_number_that_is_not_yours_is_404_2019(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.contact_card.create(phone_number="+14155550000", first_name="A")
    assert exc.value.body["code"] == 2019  # type: ignore[index]


async def test_bad_phone_number_is_1002(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.contact_card.create(phone_number="555-0100", first_name="A")
    assert exc.value.body["code"] == 1002  # type: ignore[index]


async def test_missing_first_name_is_1001(http: httpx.AsyncClient) -> None:
    resp = await http.post("/v3/contact_card", json={"phone_number": LINE})
    assert resp.json()["error"]["code"] == 1001


async def test_non_https_image_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.contact_card.create(phone_number=LINE, first_name="A", image_url="ftp://x/y.png")
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_update_emits_contact_card_updated_with_the_change(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.contact_card.create(phone_number=LINE, first_name="Acme")
    await sdk.contact_card.update(phone_number=LINE, first_name="Acme Inc")
    event = sandbox.world.events[-1]
    assert event.event_type == "contact_card.updated"
    assert event.data["change"] == {"first_name": {"from": "Acme", "to": "Acme Inc"}}
