"""Sandbox routes: pre-uploaded attachments, with upload and download served by the sandbox.

``create_attachment`` returns an ``upload_url`` on the sandbox itself
(``{public_base_url}/api/partner/_uploads/{id}?token=…``, valid 15 minutes) that takes
the PUT of the raw bytes, and a ``download_url`` (``…/_files/{id}/{filename}``) that
serves them once uploaded (a message's media part hands out that URL presigned for an
hour: ``presign``). Both are ``_public`` routes: no Bearer token, no faults, like
presigned URLs. ``world.attachments[id]`` holds the API shape plus ``_uploaded``;
``world.uploads[id]`` the bytes.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote

from .. import armed, presign
from ..errors import LinqError, invalid, missing, not_found
from ..router import Ctx, Reply, Router
from ..state import CURRENT_PARTNER, World, owned_by_caller, public
from .params import get_int, get_str, uuid_param

router = Router()

MAX_BYTES = 104_857_600
UPLOAD_TTL = 15 * 60.0

# SDK 0.65 ``SupportedContentType``.
CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/tiff", "image/bmp",
        "image/svg+xml", "image/webp", "image/x-icon",
        "video/mp4", "video/quicktime", "video/mpeg", "video/mpeg2", "video/x-m4v", "video/x-msvideo",
        "video/3gpp",
        "audio/mpeg", "audio/mp3", "audio/x-m4a", "audio/mp4", "audio/x-caf", "audio/x-wav", "audio/x-aiff",
        "audio/aiff", "audio/aac", "audio/midi", "audio/amr",
        "application/pdf", "application/vnd.apple.pkpass",
        "text/plain", "text/markdown", "text/vcard", "text/rtf", "text/csv", "text/html", "text/calendar",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/x-iwork-pages-sffpages", "application/x-iwork-numbers-sffnumbers",
        "application/x-iwork-keynote-sffkey", "application/epub+zip",
        "text/xml", "application/json", "application/zip", "application/x-gzip",
    }
)  # fmt: skip


def _download_url(world: World, attachment_id: str, filename: str) -> str:
    base = world.config.public_base_url.rstrip("/")
    return f"{base}/api/partner/_files/{attachment_id}/{quote(filename.replace('/', '_'), safe='')}"


def _get(world: World, raw_id: str) -> dict[str, Any]:
    attachment_id = uuid_param(raw_id, "attachment_id")
    attachment = world.attachments.get(attachment_id)
    if attachment is None or not owned_by_caller(world, attachment):
        raise not_found(2003, "Attachment", raw_id)
    return attachment


@router.post("/v3/attachments", "create_attachment")
async def create_attachment(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    filename = get_str(body, "filename", required=True, max_len=255)
    assert filename is not None
    content_type = get_str(body, "content_type", required=True)
    assert content_type is not None
    if "size_bytes" not in body or body["size_bytes"] is None:
        raise missing("size_bytes")
    size = get_int(body, "size_bytes")
    assert size is not None
    if content_type.lower() not in CONTENT_TYPES:
        raise LinqError(
            400, 5004, f"Invalid file type: {content_type} is not supported (FLAC, OGG and executables are rejected)"
        )
    content_type = content_type.lower()
    if size > MAX_BYTES:
        raise LinqError(400, 5005, f"File too large: {size} bytes (the limit is {MAX_BYTES})")
    if size < 1:
        raise invalid("size_bytes", "must be at least 1")
    armed.refuse_if_armed(world, "upload_url")  # 500/5003: no presigned URL this time
    attachment_id = world.new_id()
    token = world.new_token()
    expires = world.now() + UPLOAD_TTL
    download_url = _download_url(world, attachment_id, filename)
    world.attachments[attachment_id] = {
        "id": attachment_id,
        "filename": filename,
        "content_type": content_type,
        "size_bytes": size,
        "status": "pending",
        "download_url": download_url,
        "created_at": world.iso(),
        "_uploaded": False,
        "_partner": CURRENT_PARTNER.get() or world.config.partner_id,
        "_upload_token": token,
        "_upload_expires": expires,
    }
    base = world.config.public_base_url.rstrip("/")
    return Reply(
        200,
        {
            "attachment_id": attachment_id,
            "upload_url": f"{base}/api/partner/_uploads/{attachment_id}?token={token}",
            "download_url": download_url,
            "http_method": "PUT",
            "expires_at": world.clock.iso(expires),
            "required_headers": {"Content-Type": content_type},
        },
    )


@router.get("/v3/attachments/{attachment_id}", "get_attachment")
async def get_attachment(ctx: Ctx) -> Reply:
    return Reply(200, public(_get(ctx.world, ctx.path_params["attachment_id"])))


@router.delete("/v3/attachments/{attachment_id}", "delete_attachment")
async def delete_attachment(ctx: Ctx) -> Reply:
    world = ctx.world
    attachment = _get(world, ctx.path_params["attachment_id"])
    del world.attachments[attachment["id"]]
    world.uploads.pop(attachment["id"], None)
    return Reply(204)


@router.put("/_uploads/{attachment_id}", "_public_upload_attachment")
async def upload(ctx: Ctx) -> Reply:
    """The presigned PUT: token and expiry, then the headers the URL was signed with."""
    world = ctx.world
    attachment = world.attachments.get(ctx.path_params["attachment_id"].lower())
    if attachment is None:
        raise not_found(2003, "Attachment", ctx.path_params["attachment_id"])
    token = ctx.query.get("token", "")
    if not hmac.compare_digest(token, attachment["_upload_token"]) or world.now() > attachment["_upload_expires"]:
        raise LinqError(403, 2005, "Upload URL is invalid or has expired; create a new attachment")
    sent_type = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent_type != attachment["content_type"]:
        raise LinqError(
            400,
            5006,
            f"Content type mismatch: the upload URL was created for {attachment['content_type']}, "
            f"got {sent_type or 'none'}",
        )
    declared = ctx.headers.get("content-length")
    size = attachment["size_bytes"]
    if declared is None or not declared.isdigit() or int(declared) != size or len(ctx.raw_body) != size:
        raise LinqError(
            400,
            5006,
            f"Content-Length must equal size_bytes ({size}); got {declared or 'none'} with {len(ctx.raw_body)} bytes",
        )
    world.uploads[attachment["id"]] = bytes(ctx.raw_body)
    attachment["_uploaded"] = True
    attachment["status"] = "complete"
    return Reply(200)


@router.get("/_files/{attachment_id}/{filename}", "_public_download_attachment")
async def download(ctx: Ctx) -> Reply:
    world = ctx.world
    attachment = world.attachments.get(ctx.path_params["attachment_id"].lower())
    if attachment is None:
        raise not_found(2003, "Attachment", ctx.path_params["attachment_id"])
    presign.check(world, attachment, ctx.query)
    data = world.uploads.get(attachment["id"])
    if data is None:
        raise LinqError(404, 2007, "Attachment not ready: its bytes have not been uploaded yet")
    disposition = "inline; filename*=UTF-8''" + quote(attachment["filename"], safe="")
    return Reply(200, data, {"Content-Type": attachment["content_type"], "Content-Disposition": disposition})
