"""The Linq API as linq-mcp speaks it: one request built from a tool's arguments (httpx-free),
the HTTP client, the exception tree every failure becomes, what each Linq error code means
(``spec/error-codes.json``) and how an error is shown to the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.api.client import ApiResponse, LinqClient, make_http_client
    from linq_mcp.api.codes import ERROR_CODES, ErrorInfo, error_info, explain
    from linq_mcp.api.errors import (
        CatalogError,
        LinqAPIError,
        LinqConnectionError,
        LinqMCPError,
        LinqTimeoutError,
        OutcomeUnknownError,
        RateLimitError,
        ServerUnavailable,
        ValidationFailed,
        api_error_from_response,
    )
    from linq_mcp.api.request import ApiRequest, Operation, Param
    from linq_mcp.api.tool_errors import ERROR_FIELDS, render_tool_error, tool_error

__all__ = [
    "ERROR_CODES",
    "ERROR_FIELDS",
    "ApiRequest",
    "ApiResponse",
    "CatalogError",
    "ErrorInfo",
    "LinqAPIError",
    "LinqClient",
    "LinqConnectionError",
    "LinqMCPError",
    "LinqTimeoutError",
    "Operation",
    "OutcomeUnknownError",
    "Param",
    "RateLimitError",
    "ServerUnavailable",
    "ValidationFailed",
    "api_error_from_response",
    "error_info",
    "explain",
    "make_http_client",
    "render_tool_error",
    "tool_error",
]

__getattr__ = lazy(
    __name__,
    {
        "ApiResponse": "client",
        "LinqClient": "client",
        "make_http_client": "client",
        "ERROR_CODES": "codes",
        "ErrorInfo": "codes",
        "error_info": "codes",
        "explain": "codes",
        "CatalogError": "errors",
        "LinqAPIError": "errors",
        "LinqConnectionError": "errors",
        "LinqMCPError": "errors",
        "LinqTimeoutError": "errors",
        "OutcomeUnknownError": "errors",
        "RateLimitError": "errors",
        "ServerUnavailable": "errors",
        "ValidationFailed": "errors",
        "api_error_from_response": "errors",
        "ApiRequest": "request",
        "Operation": "request",
        "Param": "request",
        "ERROR_FIELDS": "tool_errors",
        "render_tool_error": "tool_errors",
        "tool_error": "tool_errors",
    },
)
