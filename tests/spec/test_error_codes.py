"""Linq's error codes are one shipped data file, read by both the client and the sandbox."""

from __future__ import annotations

import json
from importlib import resources

from linq_mcp.api.codes import ERROR_CODES, explain
from linq_mcp.sandbox import errors as sandbox_errors

DATA = json.loads(resources.files("linq_mcp").joinpath("spec/error-codes.json").read_text("utf-8"))


def test_the_sandbox_answers_each_code_in_the_words_the_client_explains() -> None:
    assert sandbox_errors.MESSAGES == {code: info.title for code, info in ERROR_CODES.items()}


def test_a_sandbox_envelope_without_a_message_carries_the_tables_title() -> None:
    envelope = sandbox_errors.LinqError(409, 2015).envelope("t")
    assert envelope["error"]["message"] == ERROR_CODES[2015].title


def test_every_code_has_a_documented_http_status_or_null() -> None:
    bad = {c: e["status"] for c, e in DATA["codes"].items() if e["status"] is not None and not 400 <= e["status"] < 600}
    assert not bad


def test_an_unknown_code_is_explained_by_its_status() -> None:
    assert explain(401, 9999) == ERROR_CODES[2004]
    server_error = explain(599, None)
    assert server_error is not None and server_error.retryable
    assert explain(418, None) is None
