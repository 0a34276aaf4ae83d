"""What each Linq error code means, read from the shipped data file ``spec/error-codes.json``.

The sandbox answers with the same file's titles, so the simulated API and the client's
explanations cannot drift apart. Each entry is written for an assistant choosing its
next step: the meaning, the fix, and whether retrying can help.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, NamedTuple

__all__ = ["ERROR_CODES", "ErrorInfo", "error_info", "explain"]


class ErrorInfo(NamedTuple):
    """What a Linq error code means, written for an assistant choosing its next step."""

    title: str
    meaning: str
    fix: str
    retryable: bool


def _info(entry: dict[str, Any]) -> ErrorInfo:
    return ErrorInfo(entry["title"], entry["meaning"], entry["fix"], bool(entry["retryable"]))


_DATA: dict[str, Any] = json.loads(resources.files("linq_mcp").joinpath("spec/error-codes.json").read_text("utf-8"))

ERROR_CODES: dict[int, ErrorInfo] = {int(code): _info(entry) for code, entry in _DATA["codes"].items()}
# Used when Linq's answer has no code we know.
_BY_STATUS: dict[int, ErrorInfo] = {
    int(status): ERROR_CODES[entry["same_as_code"]] if "same_as_code" in entry else _info(entry)
    for status, entry in _DATA["by_status"].items()
}
_SERVER_ERROR = _info(_DATA["server_error"])


def error_info(code: int | None) -> ErrorInfo | None:
    """The table entry for a Linq error code, or None when the code is unknown."""
    if code is None:
        return None
    return ERROR_CODES.get(code)


def explain(status: int, code: int | None) -> ErrorInfo | None:
    """The explanation of an error answer: its code's entry, else its status's, else None."""
    info = error_info(code)
    if info is not None:
        return info
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return _SERVER_ERROR
    return None
