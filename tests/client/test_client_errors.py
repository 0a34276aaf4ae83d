"""errors.py: envelope parsing, the error-code table, and tool-error payloads for the model."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from linq_mcp.api.errors import (
    ERROR_CODES,
    AuthenticationError,
    BadRequestError,
    CatalogError,
    ConflictError,
    InternalServerError,
    LinqAPIError,
    LinqConnectionError,
    LinqTimeoutError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PolicyError,
    RateLimitError,
    UnprocessableEntityError,
    ValidationFailed,
    api_error_from_response,
    error_info,
    render_tool_error,
    tool_error,
)

# Every code in api-catalog.md B.5.
CATALOG_CODES = [
    *range(1001, 1009),
    *range(2001, 2020),
    *range(2021, 2025),
    *range(2026, 2029),
    *range(3001, 3008),
    *range(4001, 4011),
    *range(5001, 5008),
]

KEYED_WORDING = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "Retrying with the same idempotency_key is safe and will not send twice."
)


def linq_body(status: int, code: int, message: str, **extra: object) -> bytes:
    error = {"status": status, "code": code, "message": message, **extra}
    return json.dumps({"success": False, "error": error, "trace_id": "body-trace"}).encode()


# ----------------------------------------------------------------- envelope


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, LinqAPIError),
    ],
)
def test_status_selects_the_sdk_style_subclass(status: int, cls: type[LinqAPIError]) -> None:
    """Each status maps to the class the Linq SDK uses; others get the base class."""
    err = api_error_from_response(status, linq_body(status, 1005, "x"), {})
    assert type(err) is cls


def test_envelope_fields_are_read_and_header_trace_wins() -> None:
    """code, message, doc_url and retry_after come from error{}; the X-Trace-ID header beats the body's."""
    body = linq_body(429, 1007, "Rate limited. Try again in 45 seconds.", doc_url="https://d/1007/", retry_after=45)
    err = api_error_from_response(429, body, {"x-trace-id": "hdr-trace"})
    assert (err.code, err.message, err.doc_url, err.retry_after, err.trace_id) == (
        1007,
        "Rate limited. Try again in 45 seconds.",
        "https://d/1007/",
        45,
        "hdr-trace",
    )


def test_trace_id_falls_back_to_the_body() -> None:
    """Without the header, the envelope's top-level trace_id is used."""
    assert api_error_from_response(404, linq_body(404, 2001, "x"), {}).trace_id == "body-trace"


def test_retry_after_header_as_http_date_is_converted_to_seconds() -> None:
    """Retry-After may be an HTTP date; it becomes whole seconds from now."""
    when = email.utils.formatdate(time.time() + 90, usegmt=True)
    err = api_error_from_response(429, b"", {"Retry-After": when})
    assert err.retry_after is not None and 85 <= err.retry_after <= 91


def test_foreign_json_body_gives_a_short_message() -> None:
    """A non-Linq JSON error ({"message": ...}) is used, bounded, with no code."""
    err = api_error_from_response(400, json.dumps({"message": "bad " * 200}).encode(), {})
    assert err.message.startswith("HTTP 400 Bad Request: bad bad")
    assert len(err.message) <= 200
    assert err.code is None


def test_empty_body_gives_the_status_phrase() -> None:
    """No body at all: the message is the HTTP status and its phrase."""
    assert api_error_from_response(504, b"", {}).message == "HTTP 504 Gateway Timeout"


def test_phone_numbers_and_emails_in_linq_messages_are_scrubbed() -> None:
    """Linq may echo handles in its messages; they never reach our error text."""
    message = "to must be in E.164 format, got '+1 415 555 0123' and bob@example.com and 14155550123"
    err = api_error_from_response(400, linq_body(400, 1002, message), {})
    assert "415" not in err.message and "example.com" not in err.message
    assert "[phone]" in err.message and "[email]" in err.message


def test_str_of_api_error_is_one_line_with_status_code_and_trace() -> None:
    """str() is what a log or traceback shows: status, code, message, trace id, nothing else."""
    err = api_error_from_response(404, linq_body(404, 2001, "Chat not found"), {"X-Trace-ID": "t1"})
    assert str(err) == "HTTP 404, code 2001: Chat not found [trace t1]"


# ----------------------------------------------------------------- code table


def test_every_catalog_code_has_an_entry() -> None:
    """ERROR_CODES covers api-catalog B.5 exactly (no 2020 or 2025 exists)."""
    assert sorted(ERROR_CODES) == sorted(CATALOG_CODES)


@pytest.mark.parametrize("code", CATALOG_CODES)
def test_each_entry_has_title_meaning_fix_and_a_bool(code: int) -> None:
    """Each entry is (title, meaning, fix, retryable) with real text."""
    title, meaning, fix, retryable = ERROR_CODES[code]
    assert title and meaning and fix
    assert isinstance(retryable, bool)


def test_fix_texts_guide_the_next_step() -> None:
    """The key entries say what to do: E.164 form, respecting STOP, waiting and reusing the key."""
    assert "E.164" in ERROR_CODES[1002].fix and "+14155550123" in ERROR_CODES[1002].fix
    assert "STOP" in ERROR_CODES[2024].fix and "override_optout" in ERROR_CODES[2024].fix
    assert ERROR_CODES[1007].fix == "Wait retry_after seconds, then retry with the same idempotency_key."
    assert ERROR_CODES[1007].retryable and not ERROR_CODES[2024].retryable


def test_error_info_returns_none_for_unknown_codes() -> None:
    """Unknown or missing codes have no entry."""
    assert error_info(9999) is None
    assert error_info(None) is None
    assert error_info(2001) is ERROR_CODES[2001]


# ----------------------------------------------------------------- tool_error kinds


def test_api_error_payload_carries_table_guidance() -> None:
    """A Linq error becomes linq_api_error with code, status, meaning, fix, retryable and trace id."""
    err = api_error_from_response(
        403, linq_body(403, 2024, "Recipient has opted out", doc_url="https://d/2024/"), {"X-Trace-ID": "t"}
    )
    payload = tool_error(err)
    assert payload == {
        "error": "linq_api_error",
        "code": 2024,
        "http_status": 403,
        "message": "Recipient has opted out",
        "meaning": ERROR_CODES[2024].meaning,
        "fix": ERROR_CODES[2024].fix,
        "retryable": False,
        "trace_id": "t",
        "doc_url": "https://d/2024/",
    }


def test_rate_limit_payload_is_rate_limited_with_retry_after() -> None:
    """A 429 is reported as rate_limited and keeps retry_after and the idempotency key."""
    err = api_error_from_response(429, linq_body(429, 1007, "Rate limited", retry_after=45), {})
    payload = tool_error(err, idempotency_key="k-9")
    assert (payload["error"], payload["retry_after"], payload["retryable"]) == ("rate_limited", 45, True)
    assert payload["idempotency_key"] == "k-9"


def test_connection_error_payload() -> None:
    """A connection failure is connection_error and retryable."""
    payload = tool_error(LinqConnectionError("Could not connect to Linq (ConnectError); nothing was sent."))
    assert payload["error"] == "connection_error"
    assert payload["retryable"] is True


def test_timeout_payload() -> None:
    """A timeout is reported as timeout, not as a plain connection error."""
    assert tool_error(LinqTimeoutError("Linq did not answer in time."))["error"] == "timeout"


def test_outcome_unknown_keyed_send_says_retry_with_the_same_key_is_safe() -> None:
    """A keyed send whose answer was lost tells the model plainly that retrying with the key is safe."""
    payload = tool_error(OutcomeUnknownError(keyed=True), idempotency_key="k-1")
    assert payload["error"] == "outcome_unknown"
    assert payload["message"] == KEYED_WORDING
    assert payload["idempotency_key"] == "k-1"
    assert payload["retryable"] is True


def test_outcome_unknown_uses_the_key_the_client_saw() -> None:
    """The key recorded on the exception is enough for the keyed wording."""
    payload = tool_error(OutcomeUnknownError(keyed=True, idempotency_key="from-body"))
    assert (payload["message"], payload["idempotency_key"]) == (KEYED_WORDING, "from-body")


def test_outcome_unknown_idempotent_request_without_key_says_repeating_is_safe() -> None:
    """A lost answer to a PUT (replay-safe, no key) says repeating is safe without mentioning a key."""
    payload = tool_error(OutcomeUnknownError(keyed=True))
    assert payload["message"].startswith("The outcome is unknown")
    assert "cannot act twice" in payload["message"] and "idempotency_key" not in payload["message"]
    assert payload["retryable"] is True


def test_outcome_unknown_unkeyed_send_says_check_before_retrying() -> None:
    """An unkeyed send cannot be retried blindly: the model is told to check first."""
    payload = tool_error(OutcomeUnknownError(keyed=False))
    assert payload["message"].startswith("The outcome is unknown")
    assert "has no idempotency key at Linq, so check whether it happened" in payload["message"]
    assert "list_messages" in payload["message"] and "before retrying" in payload["message"]
    assert payload["retryable"] is False
    assert "idempotency_key" not in payload


def test_invalid_arguments_payload_lists_the_problems() -> None:
    """ValidationFailed becomes invalid_arguments with each {path, problem, expected, example}."""
    problem = {"path": "to[0]", "problem": "not E.164", "expected": "E.164 phone or email", "example": "+14155550123"}
    payload = tool_error(ValidationFailed([problem]))
    assert payload["error"] == "invalid_arguments"
    assert payload["problems"] == [problem]
    assert payload["retryable"] is False


def test_policy_refused_payload_names_the_rule_but_not_the_handle() -> None:
    """A policy refusal shows rule and detail; the recipient's number stays out."""
    exc = PolicyError("recipient_allowlist", "recipient is not on the allow list", handle="+14155550123")
    payload = tool_error(exc)
    assert (payload["error"], payload["rule"]) == ("policy_refused", "recipient_allowlist")
    assert "4155550123" not in json.dumps(payload)


def test_unexpected_exception_is_internal_error_by_class_name_only() -> None:
    """An unknown exception's text might hold secrets: only its class name is shown."""
    payload = tool_error(KeyError("Bearer sk_live_secret +14155550123"))
    assert payload["error"] == "internal_error"
    assert "KeyError" in payload["message"]
    assert "sk_live_secret" not in json.dumps(payload) and "4155550123" not in json.dumps(payload)


def test_catalog_error_is_an_internal_error() -> None:
    """A broken API description is our bug, reported as internal_error."""
    assert tool_error(CatalogError("duplicate operationId send_message"))["error"] == "internal_error"


def test_none_values_are_omitted() -> None:
    """Fields Linq did not send (doc_url, retry_after, trace_id) are absent, not null."""
    payload = tool_error(api_error_from_response(404, b"", {}))
    assert None not in payload.values()
    assert {"doc_url", "retry_after", "trace_id", "code"}.isdisjoint(payload)


# ----------------------------------------------------------------- rendering


def test_render_is_a_few_readable_lines() -> None:
    """The text twin states kind, status, code, message, fix and the trace id in a few lines."""
    err = api_error_from_response(404, linq_body(404, 2001, "Chat not found"), {"X-Trace-ID": "t-77"})
    text = render_tool_error(tool_error(err))
    lines = text.splitlines()
    assert lines[0] == "Linq API error (HTTP 404, code 2001): Chat not found"
    assert f"Fix: {ERROR_CODES[2001].fix}" in lines
    assert "trace_id: t-77" in text
    assert len(lines) <= 6


def test_render_lists_each_argument_problem() -> None:
    """Validation problems appear one per line with path, problem, expectation and example."""
    problem = {"path": "from", "problem": "missing", "expected": "one of your lines", "example": "+15550100001"}
    text = render_tool_error(tool_error(ValidationFailed([problem])))
    assert '- from: missing; expected one of your lines; e.g. "+15550100001"' in text.splitlines()


def test_render_of_outcome_unknown_keeps_the_exact_wording() -> None:
    """The safety sentence reaches the text block unchanged."""
    text = render_tool_error(tool_error(OutcomeUnknownError(keyed=True), idempotency_key="k"))
    assert KEYED_WORDING in text
    assert "idempotency_key: k" in text
