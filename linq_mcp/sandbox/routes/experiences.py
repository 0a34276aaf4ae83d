"""Sandbox routes: the fixed catalog of experiences (native iMessage-app cards).

:data:`EXPERIENCES` is also what message sends check an ``experience`` against: the
action must exist, required fields must be present and unknown fields are rejected.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import LinqError
from ..router import Ctx, Reply, Router

router = Router()


def _field(kind: str, *, required: bool = False, max_len: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": kind, "required": required}
    if max_len is not None:
        spec["max"] = max_len
    return spec


EXPERIENCES: dict[str, dict[str, Any]] = {
    "agentpay": {
        "experience": "agentpay",
        "display_name": "Agent Pay",
        "actions": [
            {
                "name": "request_payment",
                "summary": "A payment request the customer pays in the app; it turns into Paid once it settles. "
                "Amount and reason are read from the payment request behind checkout_url.",
                "fields": {
                    "checkout_url": _field("url", required=True),
                    "title": _field("string", max_len=60),
                    "note": _field("string", max_len=140),
                },
            }
        ],
    },
    "agentcard": {
        "experience": "agentcard",
        "display_name": "Agent Card",
        "actions": [
            {
                "name": "attach_card",
                "summary": "A prompt to add a card to the customer's wallet.",
                "fields": {"title": _field("string", max_len=60), "note": _field("string", max_len=140)},
            },
            {
                "name": "approve_card",
                "summary": "A passkey approval for a virtual card minted for one purchase.",
                "fields": {
                    "payment_id": _field("string", required=True, max_len=64),
                    "title": _field("string", max_len=60),
                    "note": _field("string", max_len=140),
                },
            },
        ],
    },
    "link": {
        "experience": "link",
        "display_name": "Link",
        "actions": [
            {
                "name": "open",
                "summary": "A card that opens a URL you supply.",
                "fields": {
                    "url": _field("url", required=True),
                    "title": _field("string", max_len=60),
                    "subtitle": _field("string", max_len=120),
                },
            }
        ],
    },
}


@router.get("/v3/experiences", "list_experiences")
async def list_experiences(ctx: Ctx) -> Reply:
    return Reply(200, {"experiences": copy.deepcopy(list(EXPERIENCES.values()))})


@router.get("/v3/experiences/{experience}", "get_experience")
async def get_experience(ctx: Ctx) -> Reply:
    name = ctx.path_params["experience"]
    experience = EXPERIENCES.get(name)
    if experience is None:
        raise LinqError(404, 2001, f"Experience not found: {name} (see GET /v3/experiences)")
    return Reply(200, copy.deepcopy(experience))
