"""A store URL, checked and made fit to print: no psycopg needed (settings use it)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from linq_mcp.config.redact import register_secret

__all__ = ["parse_url"]


def parse_url(url: str) -> tuple[str, str]:
    """``(conninfo, display)``: what psycopg connects with, and the URL fit to print.

    The password is registered with ``linq_mcp.config.redact`` so no log line or result carries it.
    Raises ``ValueError`` with the fix for a URL that is not a PostgreSQL one.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(
            "--store (LINQ_MCP_STORE_URL, [store] url) has a bad port; expected a URL like "
            "postgresql://user:password@host:5432/dbname"
        ) from None
    if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or parts.path.strip("/")):
        raise ValueError(
            "--store (LINQ_MCP_STORE_URL, [store] url) must be a URL like "
            "postgresql://user:password@host:5432/dbname; "
            f"got {'a ' + repr(parts.scheme + ':') + ' URL' if parts.scheme else 'no scheme'}. "
            "Leave it unset to use the SQLite file"
        )
    if parts.password:
        register_secret(parts.password)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    if parts.username:
        netloc = f"{parts.username}{':***' if parts.password else ''}@{netloc}"
    return text, urlunsplit((parts.scheme, netloc, parts.path, "", ""))
