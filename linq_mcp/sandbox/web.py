"""The simulated web: what a URL a client names turns out to be when Linq downloads it.

Linq fetches a media part's ``url`` and a ``voice_memo_url`` itself, so whether the send
works depends on the file behind the URL: its size (URL downloads are capped at 10 MB,
pre-uploads at 100 MB), its type, and whether it can be fetched at all. The sandbox never
touches the network; it answers from ``world.web`` (``[[web]]`` in the world config, or
``PUT /_sandbox/web``), and for any other URL:

- a host under the reserved ``.invalid`` top-level domain (RFC 2606) cannot be fetched;
- anything else is a small file (100 KB) whose type follows the path's extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from . import armed
from .errors import LinqError, invalid, missing

if TYPE_CHECKING:
    from .state import World

Doc = dict[str, Any]

URL_DOWNLOAD_MAX = 10 * 1024 * 1024  # catalog B.2: "URL downloads are capped at 10 MB"
DEFAULT_SIZE = 102400
MIME_BY_EXT = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "heic": "image/heic",
    "webp": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime", "pdf": "application/pdf",
    "mp3": "audio/mpeg", "m4a": "audio/x-m4a", "caf": "audio/x-caf", "wav": "audio/wav", "aac": "audio/aac",
    "amr": "audio/amr", "aiff": "audio/aiff", "txt": "text/plain", "vcf": "text/vcard",
}  # fmt: skip


def _default(url: str) -> Doc:
    parsed = urlparse(url)
    name = parsed.path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    host = (parsed.hostname or "").lower()
    return {
        "url": url,
        "size_bytes": DEFAULT_SIZE,
        "content_type": MIME_BY_EXT.get(ext, "application/octet-stream"),
        "reachable": not (host == "invalid" or host.endswith(".invalid")),
    }


def resource(world: World, url: str) -> Doc:
    """What is behind ``url``: ``{url, size_bytes, content_type, reachable}``."""
    found = world.web.get(url)
    if found is None:
        return _default(url)
    return {**_default(url), **found}


def download(world: World, url: str, field_name: str) -> Doc:
    """Linq downloads ``url`` for a send: 500/5002 when its download fails (armed failure),
    400/5007 when the URL cannot be fetched, 400/5005 over the 10 MB cap."""
    armed.refuse_if_armed(world, "media_download")
    found = resource(world, url)
    if not found["reachable"]:
        raise LinqError(400, 5007, f"Failed to download the file from URL ({field_name}): {url}")
    if int(found["size_bytes"]) > URL_DOWNLOAD_MAX:
        raise LinqError(
            400,
            5005,
            f"File too large: {field_name} is {found['size_bytes']} bytes; files sent by URL may be at most "
            f"10 MB — upload it as an attachment (up to 100 MB) and send its attachment_id",
        )
    return found


def register(world: World, entry: object) -> Doc:
    """Add or replace a resource (``[[web]]`` / ``PUT /_sandbox/web``)."""
    if not isinstance(entry, dict):
        raise invalid("web", "must be an object {url, size_bytes?, content_type?, reachable?}")
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise missing("url")
    doc: Doc = {"url": url}
    size = entry.get("size_bytes")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise invalid("size_bytes", "must be a non-negative integer")
        doc["size_bytes"] = size
    content_type = entry.get("content_type")
    if content_type is not None:
        if not isinstance(content_type, str):
            raise invalid("content_type", "must be a string")
        doc["content_type"] = content_type
    reachable = entry.get("reachable")
    if reachable is not None:
        if not isinstance(reachable, bool):
            raise invalid("reachable", "must be a boolean")
        doc["reachable"] = reachable
    world.web[url] = doc
    return resource(world, url)
