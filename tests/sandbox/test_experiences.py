"""Experiences: the fixed catalog in the SDK's shape."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types import ExperienceListResponse, ExperienceRetrieveResponse


async def test_list_validates_and_holds_agentpay_and_agentcard(sdk: Any) -> None:
    raw = await sdk.experiences.with_raw_response.list()
    body = raw.http_response.json()
    ExperienceListResponse.model_validate(body)
    names = {e["experience"]: [a["name"] for a in e["actions"]] for e in body["experiences"]}
    assert names["agentpay"] == ["request_payment"]
    assert names["agentcard"] == ["attach_card", "approve_card"]


async def test_retrieve_one_experience(sdk: Any) -> None:
    raw = await sdk.experiences.with_raw_response.retrieve("agentpay")
    body = raw.http_response.json()
    ExperienceRetrieveResponse.model_validate(body)
    assert body["actions"][0]["fields"]["checkout_url"] == {"type": "url", "required": True}


async def test_unknown_experience_is_404(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError):
        await sdk.experiences.retrieve("teleport")
