"""Sandbox routes: payments, simulated end to end. No money moves; every credential is fake.

Four areas, each a small state machine in the world:

- **Payment requests** (``world.payment_requests``): ``requested`` → ``succeeded`` (someone
  pays at ``checkout_url``, which is a ``_public`` page on the sandbox: POST it to pay) |
  ``canceled`` | ``expired`` (after 24 h). Each transition emits ``payment.*`` with the
  request as ``data``.
- **Agent payments** (``world.payments``) for a *connected* handle: ``awaiting_user_action``
  (``attach_url`` when no card is on file, then ``approval_url``; both are sandbox pages the
  customer "completes" with a GET or POST) → ``ready`` (credentials handed off) →
  ``authorized`` → ``succeeded`` as the merchant charges the card (1 s each, virtual time);
  ``canceled``; ``declined`` for amounts over :data:`DECLINE_OVER_CENTS`. Events carry the
  payment (``object: "payment"``). Without a connection the answer is ``needs_connection``.
- **Handle connections** (``world.payment_handles``): ``connect`` → ``pending`` with a
  one-time code the customer would receive, kept in ``_otp`` (see the admin state) →
  ``verify`` → ``connected`` (``connection.created``) → ``revoke`` (``connection.revoked``).
- **Providers** (``world.payment_providers``): ``stripe`` and ``agentcard`` start ``ready``,
  ``natural`` ``disabled``; ``connect`` → ``onboarding`` → ``ready`` after
  ``timing.provider_onboarding`` or when the ``hosted_url`` is opened.

``Idempotency-Key`` on create_payment_request replays the original response; on
create_payment it names one payment and returns its *current* state (the SDK documents
re-sending the same key to collect a payment after approval).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import LinqError, bad_phone, conflict, invalid
from ..idempotency import header_key, remember, replay, scope_key
from ..router import Ctx, Reply, Router
from ..state import World, public
from .params import get_int, get_str, https_url, is_e164, is_email

router = Router()

PROVIDERS = {"stripe": "ready", "agentcard": "ready", "natural": "disabled"}
MIN_AMOUNT = 50
REQUEST_TTL = 24 * 3600.0
OTP_TTL = 600.0
DECLINE_OVER_CENTS = 500_000
SUBSCRIPTION_PRICE_CENTS = 2500  # every price_… costs this much per unit per month here
CHARGE_STEP = 1.0  # seconds between ready → authorized → succeeded
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123", "brand": "visa"}


def _base(world: World) -> str:
    return world.config.public_base_url.rstrip("/") + "/api/partner"


def _ts(world: World, value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# providers ----------------------------------------------------------------------------------
def provider_state(world: World, name: str) -> dict[str, Any]:
    if name not in PROVIDERS:
        raise LinqError(404, 2001, f"Payment provider not found: {name} (known: {', '.join(PROVIDERS)})")
    return world.payment_providers.setdefault(name, {"provider": name, "status": PROVIDERS[name]})


def _require_provider(world: World, name: str) -> None:
    if provider_state(world, name)["status"] != "ready":
        raise LinqError(
            403,
            2011,
            f"Payments are not enabled: connect the {name} provider first (POST /v3/payments/providers/{name}/connect)",
        )


def _finish_onboarding(world: World, name: str) -> None:
    state = provider_state(world, name)
    if state["status"] == "onboarding":
        state["status"] = "ready"


@router.get("/v3/payments/providers/{provider}", "get_payment_provider")
async def get_payment_provider(ctx: Ctx) -> Reply:
    return Reply(200, public(provider_state(ctx.world, ctx.path_params["provider"])))


@router.post("/v3/payments/providers/{provider}/connect", "connect_payment_provider")
async def connect_payment_provider(ctx: Ctx) -> Reply:
    world = ctx.world
    name = ctx.path_params["provider"]
    state = provider_state(world, name)
    body = ctx.body()
    return_url = get_str(body, "return_url", required=True)
    assert return_url is not None
    https_url(return_url, "return_url", http_hosts=world.config.http_webhook_hosts)
    session_id = "sess_sandbox_" + world.new_token(8)
    state.setdefault("_sessions", {})[session_id] = return_url
    if state["status"] != "ready":
        state["status"] = "onboarding"
        world.scheduler.call_later(world.config.timing.provider_onboarding, lambda: _finish_onboarding(world, name))
    hosted = f"{_base(world)}/_payments/onboarding/{quote(name)}/{session_id}"
    return Reply(200, {"hosted_url": hosted, "session_id": session_id, "status": state["status"]})


@router.get("/_payments/onboarding/{provider}/{session_id}", "_public_provider_onboarding")
async def provider_onboarding_page(ctx: Ctx) -> Reply:
    """The hosted page: opening it completes onboarding and redirects to ``return_url``."""
    world = ctx.world
    state = provider_state(world, ctx.path_params["provider"])
    return_url = state.get("_sessions", {}).get(ctx.path_params["session_id"])
    if return_url is None:
        raise LinqError(404, 2001, "Onboarding session not found")
    _finish_onboarding(world, state["provider"])
    return Reply(302, None, {"Location": return_url})


# payment requests ---------------------------------------------------------------------------
def _metadata(body: dict[str, Any]) -> dict[str, str] | None:
    value = body.get("metadata")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("metadata", "must be an object of string values")
    if len(value) > 49:
        raise invalid("metadata", "at most 49 keys")
    for key, item in value.items():
        if key.startswith("linq_"):
            raise invalid("metadata", f"key {key!r} uses the reserved linq_ prefix")
        if len(key) > 40 or not isinstance(item, str) or len(item) > 500:
            raise invalid("metadata", f"key {key!r}: keys up to 40 characters, string values up to 500")
    return dict(value)


def _payment_mode(body: dict[str, Any], fields: dict[str, Any]) -> None:
    for key in ("price_id", "quantity", "trial_end", "trial_period_days", "discount"):
        if body.get(key) is not None:
            raise invalid(key, "is only allowed in subscription mode")
    amount = get_int(body, "amount", required=True)
    assert amount is not None
    if amount < MIN_AMOUNT:
        raise invalid("amount", f"must be at least {MIN_AMOUNT} (minor units)")
    currency = get_str(body, "currency", required=True)
    assert currency is not None
    if currency.lower() != "usd":
        raise invalid("currency", "only usd is supported")
    fields.update(amount=amount, currency="usd")


def _subscription_mode(world: World, body: dict[str, Any], fields: dict[str, Any]) -> None:
    for key in ("amount", "currency"):
        if body.get(key) is not None:
            raise invalid(key, "must be omitted in subscription mode (it comes from the price)")
    price_id = get_str(body, "price_id", required=True)
    assert price_id is not None
    if not price_id.startswith("price_"):
        raise invalid("price_id", "must be a Stripe price id (price_…)")
    quantity = get_int(body, "quantity")
    if quantity is not None and quantity < 1:
        raise invalid("quantity", "must be at least 1")
    amount = SUBSCRIPTION_PRICE_CENTS * (quantity or 1)
    discount = body.get("discount")
    if discount is not None:
        if not isinstance(discount, dict) or bool(discount.get("coupon")) == bool(discount.get("promotion_code")):
            raise invalid("discount", "give exactly one of coupon or promotion_code")
        if any(v is not None and not isinstance(v, str) for v in discount.values()):
            raise invalid("discount", "values must be strings")
        fields["discount"] = {k: discount[k] for k in ("coupon", "promotion_code", "label") if discount.get(k)}
        amount //= 2  # every sandbox coupon is 50% off the first invoice
    days = get_int(body, "trial_period_days")
    trial_end = get_str(body, "trial_end")
    if days is not None and trial_end is not None:
        raise invalid("trial_end", "trial_end and trial_period_days are mutually exclusive")
    if days is not None:
        if not 1 <= days <= 730:
            raise invalid("trial_period_days", "must be between 1 and 730")
        fields["trial_end"] = world.iso(world.now() + days * 86400)
    if trial_end is not None:
        stamp = _ts(world, trial_end)
        if stamp is None or stamp <= world.now():
            raise invalid("trial_end", "must be a timestamp in the future")
        fields["trial_end"] = world.iso(stamp)
    if "trial_end" in fields:
        amount = 0  # nothing is due today; the card is collected for the first renewal
    fields.update(
        amount=amount, currency="usd", price_id=price_id, quantity=quantity or 1, interval="month", interval_count=1
    )


def _request_event_phone(request: dict[str, Any]) -> str | None:
    value = request.get("_from")
    return value if isinstance(value, str) else None


async def _request_event(world: World, event_type: str, request: dict[str, Any], trace_id: str | None = None) -> None:
    await world.emit(event_type, public(request), trace_id=trace_id, phone_number=_request_event_phone(request))


def _get_request(world: World, request_id: str) -> dict[str, Any]:
    request = world.payment_requests.get(request_id)
    if request is None:
        raise LinqError(404, 2021, f"Payment request not found: {request_id}")
    return request


async def _expire_request(world: World, request_id: str) -> None:
    request = world.payment_requests.get(request_id)
    if request is not None and request["status"] == "requested":
        request.update(status="expired", updated_at=world.iso())
        await _request_event(world, "payment.expired", request)


async def pay_request(world: World, request_id: str, trace_id: str | None = None) -> dict[str, Any]:
    """The recipient pays: ``requested`` → ``succeeded`` with ``payment.succeeded`` (409 otherwise)."""
    request = _get_request(world, request_id)
    if request["status"] != "requested":
        raise conflict(2015, f"Payment request is {request['status']}; it can no longer be paid")
    now = world.iso()
    request.update(status="succeeded", paid_at=now, updated_at=now)
    request.setdefault("stripe", {})["payment_intent_id"] = "pi_sandbox_" + world.new_token(8)
    if request.get("mode") == "subscription":
        request["stripe"]["subscription_id"] = "sub_sandbox_" + world.new_token(8)
    if request.get("rail") == "natural":
        request["natural"]["transaction_id"] = "txn_sandbox_" + world.new_token(8)
    await _request_event(world, "payment.succeeded", request, trace_id)
    return request


@router.post("/v3/payment_requests", "create_payment_request")
async def create_payment_request(ctx: Ctx) -> Reply:
    world = ctx.world
    key = header_key(ctx)
    scopes = [scope_key("create_payment_request", "header", key)] if key else []
    replayed = replay(world, scopes)
    if replayed is not None:
        return replayed
    body = ctx.body()
    mode = body.get("mode") or "payment"
    if mode not in ("payment", "subscription"):
        raise invalid("mode", "must be payment or subscription")
    rail = body.get("rail") or "stripe"
    if rail not in ("stripe", "natural"):
        raise invalid("rail", "must be stripe or natural")
    fields: dict[str, Any] = {}
    if mode == "payment":
        _payment_mode(body, fields)
    else:
        _subscription_mode(world, body, fields)
    description = get_str(body, "description", max_len=500)
    metadata = _metadata(body)
    customer_id = get_str(body, "customer_id")
    if customer_id is not None and not customer_id.startswith("cus_"):
        raise invalid("customer_id", "must be an existing Stripe customer id (cus_…)")
    sender = payer = None
    if rail == "natural":
        sender = get_str(body, "from", required=True)
        payer = get_str(body, "payer_handle", required=True)
        assert sender is not None and payer is not None
        if not is_e164(sender):
            raise bad_phone("from", sender)
        if world.line_by_number(sender) is None:
            raise LinqError(403, 2006, f"Phone number permission denied: {sender} is not one of your lines")
        if not is_e164(payer):
            raise bad_phone("payer_handle", payer)
    _require_provider(world, rail)

    request_id = world.new_id()
    session = world.new_token()
    now = world.iso()
    stripe: dict[str, Any] = {}
    if customer_id or mode == "subscription":
        stripe["customer_id"] = customer_id or "cus_sandbox_" + world.new_token(8)
    request: dict[str, Any] = {
        "id": request_id,
        "object": "payment_request",
        "mode": mode,
        "rail": rail,
        "status": "requested",
        "checkout_url": f"{_base(world)}/_checkout/{request_id}?{urlencode({'session': session})}",
        **fields,
        "description": description,
        "metadata": metadata,
        "stripe": stripe,
        "created_at": now,
        "updated_at": now,
        "expires_at": world.iso(world.now() + REQUEST_TTL),
        "_session": session,
        "_from": sender,
    }
    if rail == "natural":
        request["natural"] = {"payment_request_id": "prq_sandbox_" + world.new_token(8)}
    request = {k: v for k, v in request.items() if v is not None or k.startswith("_")}
    world.payment_requests[request_id] = request
    world.scheduler.call_later(REQUEST_TTL, lambda: _expire_request(world, request_id))
    reply = Reply(200, public(request))
    remember(world, scopes, reply)
    return reply


@router.get("/v3/payment_requests", "list_payment_requests")
async def list_payment_requests(ctx: Ctx) -> Reply:
    query = ctx.query
    limit, offset = 20, 0
    if "limit" in query:
        if not query["limit"].isdigit() or not 1 <= int(query["limit"]) <= 100:
            raise invalid("limit", "must be an integer from 1 to 100")
        limit = int(query["limit"])
    if "offset" in query:
        if not query["offset"].isdigit():
            raise invalid("offset", "must be a non-negative integer")
        offset = int(query["offset"])
    status = query.get("status")
    allowed = ("requested", "authorized", "succeeded", "canceled", "expired", "declined")
    if status is not None and status not in allowed:
        raise invalid("status", f"must be one of {', '.join(allowed)}")
    items = [r for r in reversed(list(ctx.world.payment_requests.values())) if status is None or r["status"] == status]
    page = items[offset : offset + limit]
    return Reply(200, {"object": "list", "data": [public(r) for r in page], "has_more": offset + limit < len(items)})


@router.get("/v3/payment_requests/{payment_request_id}", "get_payment_request")
async def get_payment_request(ctx: Ctx) -> Reply:
    return Reply(200, public(_get_request(ctx.world, ctx.path_params["payment_request_id"])))


@router.post("/v3/payment_requests/{payment_request_id}/cancel", "cancel_payment_request")
async def cancel_payment_request(ctx: Ctx) -> Reply:
    world = ctx.world
    request = _get_request(world, ctx.path_params["payment_request_id"])
    if request["status"] == "requested":
        request.update(status="canceled", updated_at=world.iso())
        await _request_event(world, "payment.canceled", request, ctx.trace_id)
    elif request["status"] != "canceled":
        raise conflict(2015, f"Payment request is {request['status']}; it can no longer be canceled")
    return Reply(200, public(request))


@router.get("/_checkout/{payment_request_id}", "_public_checkout_page")
async def checkout_page(ctx: Ctx) -> Reply:
    request = _checkout_request(ctx)
    view = {k: request.get(k) for k in ("id", "amount", "currency", "description", "mode", "status")}
    return Reply(200, {"payment_request": view, "pay": "POST this URL to pay (sandbox: no money moves)"})


@router.post("/_checkout/{payment_request_id}", "_public_checkout_pay")
async def checkout_pay(ctx: Ctx) -> Reply:
    request = _checkout_request(ctx)
    paid = await pay_request(ctx.world, request["id"])
    return Reply(200, {"payment_request": public(paid)})


def _checkout_request(ctx: Ctx) -> dict[str, Any]:
    request = ctx.world.payment_requests.get(ctx.path_params["payment_request_id"])
    if request is None or request["_session"] != ctx.query.get("session"):
        raise LinqError(404, 2021, "Checkout session not found")
    return request


# handle connections -------------------------------------------------------------------------
def _handle(raw: str) -> str:
    value = raw.strip()
    if is_e164(value):
        return value
    if is_email(value):
        return value.lower()
    if value.startswith("+") or value.isdigit():
        raise bad_phone("handle", raw)
    raise invalid("handle", "must be an E.164 phone number or an email address")


def _connection_view(handle: str, record: dict[str, Any] | None, *, with_connect_id: bool = False) -> dict[str, Any]:
    if record is None:
        return {"handle": handle, "status": "not_connected"}
    view = {"handle": handle, "status": record["status"]}
    if with_connect_id and record["status"] == "pending":
        view = {"connect_id": record["_connect_id"], **view}
    return view


@router.post("/v3/payments/handles/{handle}/connect", "connect_payment_handle")
async def connect_payment_handle(ctx: Ctx) -> Reply:
    world = ctx.world
    handle = _handle(ctx.path_params["handle"])
    record = world.payment_handles.get(handle)
    if record is not None and record["status"] == "connected":
        return Reply(200, _connection_view(handle, record))
    card_on_file = bool(record and record.get("_card_on_file"))
    record = {
        "handle": handle,
        "status": "pending",
        "_connect_id": "conn_sandbox_" + world.new_token(8),
        "_otp": f"{world.rng.randrange(1_000_000):06d}",
        "_otp_expires": world.now() + OTP_TTL,
        "_card_on_file": card_on_file,
    }
    world.payment_handles[handle] = record
    return Reply(200, _connection_view(handle, record, with_connect_id=True))


@router.get("/v3/payments/handles/{handle}/connection", "get_payment_handle_connection")
async def get_payment_handle_connection(ctx: Ctx) -> Reply:
    handle = _handle(ctx.path_params["handle"])
    return Reply(200, _connection_view(handle, ctx.world.payment_handles.get(handle)))


@router.post("/v3/payments/handles/{handle}/verify", "verify_payment_handle")
async def verify_payment_handle(ctx: Ctx) -> Reply:
    world = ctx.world
    handle = _handle(ctx.path_params["handle"])
    body = ctx.body()
    code = get_str(body, "code", required=True)
    connect_id = get_str(body, "connect_id", required=True)
    record = world.payment_handles.get(handle)
    if record is None or record["status"] != "pending":
        raise conflict(2015, f"No connection is pending for {handle}; call connect first")
    if connect_id != record["_connect_id"]:
        raise invalid("connect_id", "does not match the pending connection; use the id connect returned")
    if world.now() > record["_otp_expires"]:
        raise invalid("code", "has expired; call connect again for a fresh connect_id")
    if code != record["_otp"]:
        raise invalid("code", "is not the code the customer received")
    record.update(status="connected", _otp=None, _connected_at=world.iso())
    await world.emit(
        "connection.created",
        {"handle": handle, "status": "connected", "connected_at": record["_connected_at"]},
        trace_id=ctx.trace_id,
    )
    return Reply(200, _connection_view(handle, record))


@router.delete("/v3/payments/handles/{handle}/connection", "revoke_payment_handle")
async def revoke_payment_handle(ctx: Ctx) -> Reply:
    world = ctx.world
    handle = _handle(ctx.path_params["handle"])
    record = world.payment_handles.get(handle)
    if record is not None and record["status"] in ("connected", "pending"):
        was_connected = record["status"] == "connected"
        record.update(status="revoked", _otp=None)
        if was_connected:
            await world.emit(
                "connection.revoked",
                {"handle": handle, "status": "revoked", "revoked_at": world.iso()},
                trace_id=ctx.trace_id,
            )
    return Reply(200, _connection_view(handle, record))


# agent payments -----------------------------------------------------------------------------
def _payment_view(payment: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in payment.items() if not k.startswith("_") and v is not None}


async def _payment_event(world: World, event_type: str, payment: dict[str, Any], trace_id: str | None = None) -> None:
    await world.emit(event_type, {"object": "payment", **_payment_view(payment)}, trace_id=trace_id)


def _get_payment(world: World, payment_id: str) -> dict[str, Any]:
    payment = world.payments.get(payment_id)
    if payment is None:
        raise LinqError(404, 2001, f"Payment not found: {payment_id}")
    return payment


def _await_customer(world: World, payment: dict[str, Any]) -> None:
    """Point the customer at the next hosted step: add a card, or approve with a passkey."""
    record = world.payment_handles.get(payment["handle"]) or {}
    token = payment["_token"]
    base = f"{_base(world)}/_payments/{payment['id']}"
    if record.get("_card_on_file"):
        payment.update(status="awaiting_user_action", attach_url=None, approval_url=f"{base}/approve?token={token}")
    else:
        payment.update(status="awaiting_user_action", approval_url=None, attach_url=f"{base}/attach?token={token}")


async def _new_payment(ctx: Ctx, request: dict[str, Any]) -> dict[str, Any]:
    world = ctx.world
    handle = request["handle"]
    record = world.payment_handles.get(handle)
    base = {k: request[k] for k in ("handle", "amount_cents", "currency", "description", "merchant", "metadata")}
    if record is None or record["status"] != "connected":
        return {"status": "needs_connection", **base}
    payment: dict[str, Any] = {"id": world.new_id(), **base, "_token": world.new_token(), "_created_at": world.iso()}
    world.payments[payment["id"]] = payment
    if request["amount_cents"] > DECLINE_OVER_CENTS:
        payment["status"] = "declined"
        await _payment_event(world, "payment.declined", payment, ctx.trace_id)
    else:
        _await_customer(world, payment)
    return payment


def _payment_request_body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body()
    amount = get_int(body, "amount_cents", required=True)
    assert amount is not None
    if amount < 1:
        raise invalid("amount_cents", "must be at least 1")
    currency = get_str(body, "currency", required=True)
    assert currency is not None
    if currency.lower() != "usd":
        raise invalid("currency", "only usd is supported")
    raw_handle = get_str(body, "handle", required=True)
    assert raw_handle is not None
    merchant = body.get("merchant")
    if merchant is not None:
        if not isinstance(merchant, dict) or any(not isinstance(v, str) for v in merchant.values()):
            raise invalid("merchant", "must be an object with string name and url")
        if merchant.get("url"):
            https_url(merchant["url"], "merchant.url")
        merchant = {k: merchant[k] for k in ("name", "url") if merchant.get(k)}
    return {
        "handle": _handle(raw_handle),
        "amount_cents": amount,
        "currency": "usd",
        "description": get_str(body, "description", max_len=500),
        "merchant": merchant or None,
        "metadata": _metadata(body),
    }


@router.post("/v3/payments", "create_payment")
async def create_payment(ctx: Ctx) -> Reply:
    world = ctx.world
    key = header_key(ctx)
    scope = scope_key("create_payment", "header", key) if key else None
    stored = world.idempotency.get(scope) if scope else None
    if stored is not None:
        ref = stored[1]
        payment = world.payments.get(ref.get("payment_id") or "")
        if payment is not None:
            world.count("idempotent_replays")
            return Reply(200, _payment_view(payment))
        request = ref["request"]  # not connected last time: try again with the original request
    else:
        request = _payment_request_body(ctx)
    _require_provider(world, "agentcard")
    payment = await _new_payment(ctx, request)
    if scope is not None:
        world.idempotency[scope] = (200, {"payment_id": payment.get("id"), "request": request})
    return Reply(200, _payment_view(payment))


@router.get("/v3/payments/{payment_id}", "get_payment")
async def get_payment(ctx: Ctx) -> Reply:
    return Reply(200, _payment_view(_get_payment(ctx.world, ctx.path_params["payment_id"])))


@router.post("/v3/payments/{payment_id}/cancel", "cancel_payment")
async def cancel_payment(ctx: Ctx) -> Reply:
    world = ctx.world
    payment = _get_payment(world, ctx.path_params["payment_id"])
    if payment["status"] in ("awaiting_user_action", "ready", "authorized", "connecting"):
        payment.update(status="canceled", attach_url=None, approval_url=None)
        await _payment_event(world, "payment.canceled", payment, ctx.trace_id)
    elif payment["status"] != "canceled":
        raise conflict(2015, f"Payment is {payment['status']}; it can no longer be canceled")
    return Reply(200, _payment_view(payment))


async def _charge(world: World, payment_id: str, step: str) -> None:
    """The merchant charges the handed-off card: ready → authorized → succeeded."""
    payment = world.payments.get(payment_id)
    if payment is None:
        return
    if step == "authorized" and payment["status"] == "ready":
        payment["status"] = "authorized"
        await _payment_event(world, "payment.authorized", payment)
        world.scheduler.call_later(CHARGE_STEP, lambda: _charge(world, payment_id, "succeeded"))
    elif step == "succeeded" and payment["status"] == "authorized":
        payment["status"] = "succeeded"
        await _payment_event(world, "payment.succeeded", payment)


@router.get("/v3/payments/{payment_id}/credentials", "get_payment_credentials")
async def get_payment_credentials(ctx: Ctx) -> Reply:
    world = ctx.world
    payment = _get_payment(world, ctx.path_params["payment_id"])
    if payment["status"] != "ready":
        raise conflict(2015, f"Payment is {payment['status']}; credentials are only available when it is ready")
    if "_card_ref" not in payment:
        payment["_card_ref"] = "card_sandbox_" + world.new_token(8)
        payment["_user_token"] = "tok_sandbox_TEST_" + world.new_token(12)
        world.scheduler.call_later(CHARGE_STEP, lambda: _charge(world, payment["id"], "authorized"))
    handoff = {
        "provider": "agentcard",
        "card_ref": payment["_card_ref"],
        "user_token": payment["_user_token"],
        "fetch_url": f"{_base(world)}/_cards/{payment['_card_ref']}",
    }
    return Reply(200, {"handoff": handoff})


def _customer_payment(ctx: Ctx) -> dict[str, Any]:
    payment = ctx.world.payments.get(ctx.path_params["payment_id"])
    if payment is None or payment["_token"] != ctx.query.get("token"):
        raise LinqError(404, 2001, "Payment page not found")
    return payment


def attach_card(world: World, payment: dict[str, Any]) -> None:
    """The customer adds a card on the hosted page; the payment now needs their approval."""
    if payment["status"] != "awaiting_user_action" or not payment.get("attach_url"):
        raise conflict(2015, f"Payment is {payment['status']}; no card is being requested")
    world.payment_handles.setdefault(payment["handle"], {"handle": payment["handle"], "status": "connected"})[
        "_card_on_file"
    ] = True
    _await_customer(world, payment)


def approve_payment(world: World, payment: dict[str, Any]) -> None:
    """The customer approves with their passkey: a single-use card is minted (``ready``)."""
    if payment["status"] != "awaiting_user_action" or not payment.get("approval_url"):
        raise conflict(2015, f"Payment is {payment['status']}; nothing is awaiting approval")
    payment.update(status="ready", approval_url=None)


@router.add("GET", "/_payments/{payment_id}/attach", "_public_payment_attach_get")
@router.post("/_payments/{payment_id}/attach", "_public_payment_attach")
async def payment_attach_page(ctx: Ctx) -> Reply:
    payment = _customer_payment(ctx)
    attach_card(ctx.world, payment)
    return Reply(200, {"payment": _payment_view(payment)})


@router.add("GET", "/_payments/{payment_id}/approve", "_public_payment_approve_get")
@router.post("/_payments/{payment_id}/approve", "_public_payment_approve")
async def payment_approve_page(ctx: Ctx) -> Reply:
    payment = _customer_payment(ctx)
    approve_payment(ctx.world, payment)
    return Reply(200, {"payment": _payment_view(payment)})


@router.get("/_cards/{card_ref}", "_public_card_fetch")
async def fetch_card(ctx: Ctx) -> Reply:
    """The provider's card endpoint: the obviously fake test card, for the handoff's bearer token."""
    card_ref = ctx.path_params["card_ref"]
    token = ctx.headers.get("authorization", "").removeprefix("Bearer ").strip()
    for payment in ctx.world.payments.values():
        if payment.get("_card_ref") == card_ref and payment.get("_user_token") == token:
            return Reply(200, {"card_ref": card_ref, "sandbox": True, **TEST_CARD})
    raise LinqError(404, 2001, "Card not found (or the bearer token does not match)")
