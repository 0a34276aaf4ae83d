"""The message machinery every sending route shares.

- validation of ``MessageContent`` and of handles, with Linq's error codes;
- the checks before a send (line eligibility, opt-out, block list, service, quotas);
- an outbound send into a chat, and its delivery-status timeline on the world's timers;
- an inbound message from a simulated person (or the admin API);
- the API views (``Chat``, ``SentMessage``, ``Message``) and the webhook ``data`` shapes.

Stored chats and messages are API-shaped dicts with private ``_`` keys (see ``state.public``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from . import presign, ratelimit, web
from .errors import LinqError, bad_phone, invalid, missing, not_found
from .state import owned_by_caller, public

if TYPE_CHECKING:
    from .state import World

Doc = dict[str, Any]

# ASCII digits only, and ``\Z`` (``$`` would accept a trailing newline): Linq answers 1002.
E164 = re.compile(r"\A\+[1-9][0-9]{1,14}\Z")
EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")
URL_IN_TEXT = re.compile(
    r"(https?://\S+|www\.\S+|\b[a-z0-9][a-z0-9-]*\.(?:com|net|org|io|co|app|ly|me|dev|ai|gg|link|xyz)\b)",
    re.I,
)
SERVICES = ("iMessage", "RCS", "SMS")
SCREEN_EFFECTS = {
    "confetti", "fireworks", "lasers", "sparkles", "celebration", "hearts", "love", "balloons",
    "happy_birthday", "echo", "spotlight",
}  # fmt: skip
BUBBLE_EFFECTS = {"slam", "loud", "gentle", "invisible"}
TEXT_STYLES = {"bold", "italic", "strikethrough", "underline"}
TEXT_ANIMATIONS = {"big", "small", "shake", "nod", "explode", "ripple", "bloom", "jitter"}
TEAM_ID = re.compile(r"\A[A-Z0-9]{10}\Z")
HEALTH_DOC = "https://docs.linqapp.com/channel/imessage/guides/chats/chat-health"


# handles and lookups --------------------------------------------------------------------------
def require_handle(field_name: str, value: object) -> str:
    """An E.164 number or an email; 1001 when absent, 1002 when it is neither."""
    if value is None or value == "":
        raise missing(field_name)
    if not isinstance(value, str):
        raise bad_phone(field_name, value)
    if "@" in value:
        if not EMAIL.match(value):
            raise LinqError(400, 1002, f"{field_name} must be an E.164 phone number or an email address, got {value!r}")
        return value
    if not E164.match(value):
        raise bad_phone(field_name, value)
    return value


def require_phone(field_name: str, value: object) -> str:
    if value is None or value == "":
        raise missing(field_name)
    if not isinstance(value, str) or not E164.match(value):
        raise bad_phone(field_name, value)
    return value


def require_https(field_name: str, value: object, *, max_len: int = 2048) -> str:
    if value is None or value == "":
        raise missing(field_name)
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > max_len:
        raise invalid(field_name, f"must be an https:// URL of at most {max_len} characters")
    return value


def line_for(world: World, phone_number: str, field_name: str = "from") -> Doc:
    """One of the partner's lines, or 403/2006."""
    line = world.line_by_number(phone_number)
    if line is None:
        raise LinqError(403, 2006, f"Phone number permission denied: {phone_number} is not one of your lines")
    return line


def require_eligible(line: Doc) -> None:
    if line.get("status") == "FLAGGED":
        raise LinqError(403, 2027, f"Sending line {line['phone_number']} is flagged and cannot start new activity")


def get_chat(world: World, chat_id: str) -> Doc:
    chat = world.chats.get(chat_id)
    if chat is None:
        raise not_found(2001, "Chat", chat_id)
    return chat


def require_active(chat: Doc) -> None:
    if chat.get("_left"):
        raise LinqError(409, 2013, "Chat unavailable: your line has left this chat")


def require_created(world: World, chat: Doc) -> None:
    """409/2009 while a new chat is still being created (``timing.chat_creation`` seconds)."""
    created = chat.get("_created_ts")
    window = world.config.timing.chat_creation
    if window > 0 and created is not None and world.now() - float(created) < window:
        raise LinqError(409, 2009, "Chat is still being created; retry in a moment")


def get_message(world: World, message_id: str) -> Doc:
    message = world.messages.get(message_id)
    if message is None:
        raise not_found(2002, "Message", message_id)
    return message


def me(chat: Doc) -> Doc:
    handle: Doc = next(h for h in chat["handles"] if h.get("is_me"))
    return handle


def others(chat: Doc) -> list[Doc]:
    """The active participants other than our line."""
    return [h for h in chat["handles"] if not h.get("is_me") and h.get("status", "active") == "active"]


def other_handles(chat: Doc) -> list[str]:
    return [h["handle"] for h in others(chat)]


def record_handsets_got(world: World, chat: Doc, message: Doc, at: str) -> None:
    """The message reached every other participant's phone: what `/_sandbox/deliveries` lists."""
    for handle in others(chat):
        world.deliveries.append(
            {
                "to": handle["handle"],
                "from": chat["_line"],
                "chat_id": chat["id"],
                "message_id": message["id"],
                "kind": message.get("_kind", "message"),
                "service": message["service"],
                "parts": copy.deepcopy(message.get("parts") or []),
                "at": at,
            }
        )


# services ------------------------------------------------------------------------------------
def person_services(world: World, handle: str) -> list[str]:
    """What a handle's device can receive: the cast's ``services``; outside the cast an email
    takes iMessage only, and a phone number goes by its last digit (0-5 every service, 6-8
    RCS and SMS, 9 SMS only). The capability checks answer from this same function, so a
    check and a send never disagree."""
    person = world.person(handle)
    if person is not None:
        return list(person.services)
    if "@" in handle:
        return ["iMessage"]
    last = handle[-1] if handle and handle[-1] in "0123456789" else "9"
    if last in "012345":
        return list(SERVICES)
    if last in "678":
        return ["RCS", "SMS"]
    return ["SMS"]


def line_services(line: Doc) -> list[str]:
    kind = line.get("line_type", "iMessage")
    if kind == "iMessage":
        return list(SERVICES)
    if kind == "RCS":
        return ["RCS", "SMS"]
    return ["SMS"]


def pick_service(world: World, line: Doc, handles: list[str], preferred: str | None) -> str:
    """The service a message to every one of ``handles`` goes over (iMessage → RCS → SMS).

    ``preferred_service: iMessage`` to someone who cannot take iMessage is refused
    synchronously with 422/4005 (the catalog's HTTP status for that code).
    """
    common = [s for s in line_services(line) if all(s in person_services(world, h) for h in handles)]
    if preferred == "iMessage":
        order = ["iMessage"]
    elif preferred == "RCS":
        order = ["RCS", "SMS"]
    elif preferred == "SMS":
        order = ["SMS"]
    else:
        order = list(SERVICES)
    for service in order:
        if service in common:
            return service
    want = preferred or "any service"
    raise LinqError(
        422,
        4005,
        f"Recipient does not support this message type: no common service ({want}) for {', '.join(handles)}",
    )


# chats ---------------------------------------------------------------------------------------
def make_handle(world: World, handle: str, service: str, *, line: Doc | None = None) -> Doc:
    doc: Doc = {
        "id": world.new_id(),
        "handle": handle,
        "service": service,
        "status": "active",
        "joined_at": world.iso(),
        "left_at": None,
        "is_me": line is not None,
    }
    if line is not None:
        doc["line_type"] = line["line_type"] if line.get("line_type") in ("iMessage", "RCS") else None
    return doc


def health(world: World, status: str = "HEALTHY") -> Doc:
    return {
        "status": status,
        "doc_url": f"{HEALTH_DOC}#{status.lower().replace('_', '-')}",
        "updated_at": world.iso(),
    }


def new_chat(world: World, line: Doc, to: list[str], service: str) -> Doc:
    chat_id = world.new_id()
    now = world.iso()
    handles = [make_handle(world, line["phone_number"], service, line=line)]
    handles += [make_handle(world, h, service) for h in to]
    chat: Doc = {
        "id": chat_id,
        "display_name": ", ".join(to),
        "service": service,
        "handles": handles,
        "is_group": len(to) > 1,
        "is_archived": False,
        "group_chat_icon": None,
        "created_at": now,
        "updated_at": now,
        "health_status": health(world),
        "_line": line["phone_number"],
        "_message_ids": [],
        "_left": False,
        "_named": False,
        "_participants_changed": False,
        "_typing": False,
        "_background": None,
        "_last_activity": world.now(),
        "_created_ts": world.now(),
    }
    world.chats[chat_id] = chat
    return chat


def scrub(value: Any) -> Any:
    """A deep copy without private ``_`` keys at any depth (reactions keep sticker placement)."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def chat_view(chat: Doc) -> Doc:
    return public(chat)


def find_chat(world: World, line_number: str, to: list[str]) -> Doc | None:
    """Find-or-create matching: same line, same set of handles, not named/changed/left."""
    wanted = {h.lower() for h in to}
    for chat in world.chats.values():
        if chat["_line"] != line_number or chat.get("_left") or chat.get("_participants_changed"):
            continue
        if chat["is_group"] and chat.get("_named"):
            continue
        if {h.lower() for h in other_handles(chat)} == wanted:
            return chat
    return None


async def announce_chat(world: World, chat: Doc, trace_id: str | None) -> None:
    await world.emit("chat.created", chat_view(chat), trace_id=trace_id, phone_number=chat["_line"])


# content -------------------------------------------------------------------------------------
@dataclass
class Content:
    """A validated ``MessageContent``."""

    parts: list[Doc] = field(default_factory=list)  # the request parts, checked
    effect: Doc | None = None
    reply_to: Doc | None = None
    preferred_service: str | None = None
    idempotency_key: str | None = None
    experience: Doc | None = None

    @property
    def kinds(self) -> set[str]:
        return {p["type"] for p in self.parts}

    def has_link(self) -> bool:
        if "link" in self.kinds:
            return True
        return any(p["type"] == "text" and URL_IN_TEXT.search(p["value"]) for p in self.parts)


def _ranges_ok(value: Any, length: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] < value[1] <= length
    )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_text(part: Doc, where: str) -> None:
    value = part.get("value")
    if value is None or value == "":
        raise missing(f"{where}.value")
    if not isinstance(value, str) or len(value) > 10000:
        raise LinqError(400, 1004, f"Invalid message content: {where}.value must be a string of 1-10000 characters")
    length = _utf16_len(value)
    decorations = part.get("text_decorations")
    if decorations is not None:
        if not isinstance(decorations, list) or len(decorations) > 100:
            raise LinqError(400, 1004, f"Invalid message content: {where}.text_decorations must be a list of <= 100")
        for i, deco in enumerate(decorations):
            if not isinstance(deco, dict) or not _ranges_ok(deco.get("range"), length):
                raise LinqError(400, 1004, f"Invalid message content: {where}.text_decorations[{i}].range")
            style, animation = deco.get("style"), deco.get("animation")
            if (style is None) == (animation is None):
                raise LinqError(
                    400,
                    1004,
                    f"Invalid message content: {where}.text_decorations[{i}] needs one of style|animation",
                )
            if (
                style is not None
                and style not in TEXT_STYLES
                or animation is not None
                and animation not in TEXT_ANIMATIONS
            ):
                raise LinqError(400, 1004, f"Invalid message content: {where}.text_decorations[{i}] unknown style")
        _check_overlaps(decorations, where)
    if part.get("mention_range") is not None and not _ranges_ok(part.get("mention_range"), length):
        raise LinqError(400, 1004, f"Invalid message content: {where}.mention_range")
    stickers = part.get("inline_stickers")
    if stickers is not None:
        if not isinstance(stickers, list) or len(stickers) > 100:
            raise LinqError(400, 1004, f"Invalid message content: {where}.inline_stickers must be a list of <= 100")
        if part.get("mention"):
            raise LinqError(400, 1004, f"Invalid message content: {where} cannot combine inline_stickers and mention")
        for i, sticker in enumerate(stickers):
            if not isinstance(sticker, dict) or not _ranges_ok(sticker.get("range"), length):
                raise LinqError(400, 1004, f"Invalid message content: {where}.inline_stickers[{i}].range")
            if (sticker.get("url") is None) == (sticker.get("attachment_id") is None):
                raise LinqError(
                    400,
                    1004,
                    f"Invalid message content: {where}.inline_stickers[{i}] needs one of url|attachment_id",
                )
            if sticker.get("url") is not None and not is_linq_file_url(sticker["url"]):
                raise LinqError(
                    400,
                    1004,
                    f"Invalid message content: {where}.inline_stickers[{i}].url must be a Linq download_url "
                    "(upload the image as an attachment first)",
                )
        _check_stickers(stickers, decorations or [], where)


def is_linq_file_url(url: object) -> bool:
    """A Linq ``download_url`` (cdn.linqapp.com, or the sandbox's own ``/_files/`` URLs): what
    an inline sticker's ``url`` must be (catalog B.2)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    parsed = urlparse(url)
    return parsed.hostname == "cdn.linqapp.com" or parsed.path.startswith("/api/partner/_files/")


def _overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _check_overlaps(decorations: list[Doc], where: str) -> None:
    """Styles may overlap each other; an animation may not overlap anything."""
    for i, deco in enumerate(decorations):
        if deco.get("animation") is None:
            continue
        for j, other in enumerate(decorations):
            if i != j and _overlap(deco["range"], other["range"]):
                raise LinqError(
                    400,
                    1004,
                    f"Invalid message content: {where}.text_decorations[{i}] is an animation overlapping "
                    f"text_decorations[{j}]; animations may not overlap anything",
                )


def _check_stickers(stickers: list[Doc], decorations: list[Doc], where: str) -> None:
    """At most 10 distinct images; no overlap with each other or with a decoration."""
    images = {str(s.get("url") or s.get("attachment_id")) for s in stickers}
    if len(images) > 10:
        raise LinqError(
            400, 1004, f"Invalid message content: {where}.inline_stickers use {len(images)} images (max 10)"
        )
    for i, sticker in enumerate(stickers):
        for j, other in enumerate(stickers[:i]):
            if _overlap(sticker["range"], other["range"]):
                raise LinqError(
                    400, 1004, f"Invalid message content: {where}.inline_stickers[{i}] overlaps inline_stickers[{j}]"
                )
        for j, deco in enumerate(decorations):
            if _overlap(sticker["range"], deco["range"]):
                raise LinqError(
                    400, 1004, f"Invalid message content: {where}.inline_stickers[{i}] overlaps text_decorations[{j}]"
                )


def _check_app_part(part: Doc, where: str) -> None:
    app, layout = part.get("app"), part.get("layout")
    if not isinstance(app, dict):
        raise missing(f"{where}.app")
    if not isinstance(layout, dict):
        raise missing(f"{where}.layout")
    check_app(app, where)
    check_layout(layout, where)
    url = part.get("url")
    if url is not None and not (
        isinstance(url, str)
        and (url.startswith("https://") and len(url) <= 2048 or url.startswith("data:") and len(url) <= 16384)
    ):
        raise invalid(f"{where}.url", "must be https (<= 2048) or data: (<= 16384)")


def check_app(app: Doc, where: str) -> None:
    bundle, name, team = app.get("bundle_id"), app.get("name"), app.get("team_id")
    if not isinstance(name, str) or not name:
        raise LinqError(400, 1008, f"Invalid iMessage app message: {where}.app.name is required")
    if not isinstance(bundle, str) or not bundle or ":" in bundle:
        raise LinqError(400, 1008, f"Invalid iMessage app message: {where}.app.bundle_id is required and has no ':'")
    if not isinstance(team, str) or not TEAM_ID.match(team):
        raise LinqError(
            400, 1008, f"Invalid iMessage app message: {where}.app.team_id must be 10 uppercase alphanumerics"
        )


def check_layout(layout: Doc, where: str) -> None:
    visible = ("caption", "subcaption", "trailing_caption", "trailing_subcaption", "image_url")
    if not any(layout.get(k) for k in visible):
        raise LinqError(400, 1004, f"Invalid message content: {where}.layout needs a caption, subcaption or image_url")
    if (layout.get("image_title") or layout.get("image_subtitle")) and not layout.get("image_url"):
        raise LinqError(400, 1004, f"Invalid message content: {where}.layout image_title/image_subtitle need image_url")


def validate_content(message: object, where: str = "message") -> Content:
    """Check a ``MessageContent`` object the way Linq does (1001/1004/1005/1008)."""
    if message is None:
        raise missing(where)
    if not isinstance(message, dict):
        raise LinqError(400, 1003, f"Invalid request body: {where} must be an object")
    content = Content()
    parts, experience = message.get("parts"), message.get("experience")
    if parts is not None and experience is not None:
        raise LinqError(400, 1004, f"Invalid message content: {where} has both parts and experience")
    if experience is not None:
        if not isinstance(experience, dict) or not experience.get("name") or not experience.get("action"):
            raise missing(f"{where}.experience.name/action")
        content.experience = dict(experience)
    else:
        if parts is None or parts == []:
            raise missing(f"{where}.parts")
        if not isinstance(parts, list) or len(parts) > 100:
            raise LinqError(400, 1004, f"Invalid message content: {where}.parts must be a list of 1-100 parts")
        url_media = 0
        for i, part in enumerate(parts):
            at = f"{where}.parts[{i}]"
            if not isinstance(part, dict):
                raise LinqError(400, 1004, f"Invalid message content: {at} must be an object")
            kind = part.get("type")
            if kind is None:
                raise missing(f"{at}.type")
            if kind == "text":
                _check_text(part, at)
            elif kind == "media":
                has_url, has_att = part.get("url") is not None, part.get("attachment_id") is not None
                if has_url == has_att:
                    raise LinqError(400, 1004, f"Invalid message content: {at} needs exactly one of url|attachment_id")
                if has_url:
                    require_https(f"{at}.url", part["url"])
                    url_media += 1
            elif kind == "link":
                _check_link(part, at)
            elif kind == "imessage_app":
                _check_app_part(part, at)
            elif kind == "app_clip":
                require_https(f"{at}.value", part.get("value"))
            else:
                raise LinqError(400, 1004, f"Invalid message content: {at}.type {kind!r} is not a part type")
            if kind in ("link", "imessage_app", "app_clip") and len(parts) > 1:
                raise LinqError(400, 1004, f"Invalid message content: a {kind} part must be the only part")
            if kind == "text" and i > 0 and parts[i - 1].get("type") == "text":
                raise LinqError(400, 1004, "Invalid message content: two text parts in a row; merge them into one")
        if url_media > 40:
            raise LinqError(400, 1004, "Invalid message content: at most 40 media parts may use a public url")
        content.parts = [dict(p) for p in parts]
    effect = message.get("effect")
    if effect is not None:
        if isinstance(effect, dict) and ("screen_effect" in effect or "bubble_effect" in effect):
            effect = (
                {"type": "screen", "name": effect["screen_effect"]}
                if "screen_effect" in effect
                else {"type": "bubble", "name": effect["bubble_effect"]}
            )
        if not isinstance(effect, dict) or effect.get("type") not in ("screen", "bubble"):
            raise invalid(f"{where}.effect.type", "must be screen or bubble")
        names = SCREEN_EFFECTS if effect["type"] == "screen" else BUBBLE_EFFECTS
        if effect.get("name") not in names:
            raise invalid(f"{where}.effect.name", f"must be one of {', '.join(sorted(names))}")
        content.effect = {"type": effect["type"], "name": effect["name"]}
    reply_to = message.get("reply_to")
    if reply_to is not None:
        if not isinstance(reply_to, dict) or not reply_to.get("message_id"):
            raise missing(f"{where}.reply_to.message_id")
        index = reply_to.get("part_index", 0)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise invalid(f"{where}.reply_to.part_index", "must be an integer >= 0")
        content.reply_to = {"message_id": str(reply_to["message_id"]), "part_index": index}
    preferred = message.get("preferred_service")
    if preferred is not None and preferred not in SERVICES:
        raise invalid(f"{where}.preferred_service", "must be iMessage, RCS or SMS")
    content.preferred_service = preferred
    key = message.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key or len(key) > 255):
        raise invalid(f"{where}.idempotency_key", "must be a string of 1-255 characters")
    content.idempotency_key = key
    return content


def _check_link(part: Doc, at: str) -> None:
    value = part.get("value")
    if value is None or value == "":
        raise missing(f"{at}.value")
    if not isinstance(value, str) or len(value) > 2048 or not urlparse(value).scheme:
        raise invalid(f"{at}.value", "must be a URL of at most 2048 characters")


def first_message_rules(content: Content) -> None:
    """The rules for the message that opens a new chat with ``POST /v3/chats`` (400/1005)."""
    if content.has_link():
        raise LinqError(400, 1005, "The first message of a new chat cannot contain a link or a URL")
    if content.reply_to is not None:
        raise LinqError(400, 1005, "The first message of a new chat cannot be a reply (reply_to)")
    if content.effect is not None:
        raise LinqError(400, 1005, "The first message of a new chat cannot carry a message effect")


# checks before a send ------------------------------------------------------------------------
def preflight_in_chat(world: World, chat: Doc, content: Content | None, *, override_optout: bool = False) -> str:
    """``preflight`` for a send into an existing chat: its line, its other participants."""
    return preflight(
        world,
        line_for(world, chat["_line"]),
        other_handles(chat),
        is_group=chat["is_group"],
        content=content,
        override_optout=override_optout,
        chat=chat,
    )


def inbound_senders(world: World) -> set[str]:
    """Every handle that has written to one of our lines (lower-cased)."""
    senders: set[str] = set()
    for message in world.messages.values():
        if message.get("is_from_me") is False:
            handle = (message.get("from_handle") or {}).get("handle") or message.get("from")
            if handle:
                senders.add(str(handle).lower())
    return senders


def preflight(
    world: World,
    line: Doc,
    handles: list[str],
    *,
    is_group: bool,
    content: Content | None,
    override_optout: bool,
    chat: Doc | None = None,
) -> str:
    """Every refusal a send can meet before anything is queued; returns the message's service."""
    require_eligible(line)
    if chat is not None:
        require_active(chat)
        require_created(world, chat)
    blocked = [h for h in handles if h.lower() in {b.lower() for b in world.blocked}]
    # Linq refuses direct sends to a blocked handle; a group send goes through as long as one
    # recipient is not blocked (our stricter reading: a group of only blocked handles is refused).
    if blocked and (not is_group or len(blocked) == len(handles)):
        raise LinqError(403, 2026, f"Recipient handle is blocked: {blocked[0]}")
    if world.config.limits.require_inbound_first:
        wrote_first = inbound_senders(world)
        for handle in handles:
            if handle.lower() not in wrote_first:
                raise LinqError(
                    403, 2008, f"Recipient not allowed: on the sandbox tier {handle} must message you first"
                )
    if not is_group and not override_optout:
        for handle in handles:
            if handle in world.opted_out:
                raise LinqError(
                    403,
                    2024,
                    f"Recipient has opted out: {handle} asked you to stop (override_optout to send anyway)",
                )
    preferred = content.preferred_service if content else None
    kinds = content.kinds if content else set()
    if "imessage_app" in kinds or (content is not None and content.experience is not None):
        if preferred in ("SMS", "RCS"):
            raise LinqError(409, 2018, f"iMessage app messages can only be sent over iMessage, not {preferred}")
        preferred = "iMessage"
    if "app_clip" in kinds:
        if preferred in ("SMS", "RCS"):
            raise LinqError(409, 2028, "App Clip service unsupported: App Clips are sent over iMessage only")
        preferred = "iMessage"
    try:
        service = pick_service(world, line, handles, preferred)
    except LinqError:
        # An app card to someone without iMessage is 4005 (pick_service's error); 2018 is only
        # for a card where SMS/RCS was forced (above).
        if "app_clip" in kinds:
            raise LinqError(409, 2028, "App Clip service unsupported: a recipient cannot take iMessage") from None
        raise
    sms_max = world.config.limits.sms_group_max
    if is_group and service == "SMS" and sms_max is not None and len(handles) + 1 > sms_max:
        raise invalid(
            "to",
            f"an SMS/MMS group holds at most {sms_max} participants including you (carrier limit); "
            f"this one would have {len(handles) + 1}",
        )
    if content is not None:
        for i, part in enumerate(content.parts):
            if part["type"] == "text" and part.get("mention") and not is_group:
                raise LinqError(409, 2023, f"Mentions are only supported in group chats (message.parts[{i}].mention)")
        if content.reply_to is not None:
            target = world.messages.get(content.reply_to["message_id"])
            if target is None or (chat is not None and target["chat_id"] != chat["id"]):
                raise not_found(2002, "Message", content.reply_to["message_id"])
    ratelimit.check(world, line["phone_number"], handles)
    return service


# building messages ---------------------------------------------------------------------------
def _media_from_url(world: World, url: str, field_name: str) -> Doc:
    found = web.download(world, url, field_name)  # 5002 / 5005 (over 10 MB) / 5007
    name = urlparse(url).path.rsplit("/", 1)[-1] or "file"
    return {
        "type": "media",
        "id": world.new_id(),
        "url": url,
        "filename": name,
        "mime_type": found["content_type"],
        "size_bytes": int(found["size_bytes"]),
        "reactions": [],
    }


def attachment(world: World, attachment_id: object, field_name: str = "attachment_id") -> Doc:
    """An uploaded attachment of the partner's (404/2003 unknown, 404/2007 not uploaded yet)."""
    if not isinstance(attachment_id, str) or not attachment_id:
        raise missing(field_name)
    found = world.attachments.get(attachment_id)
    if found is None or not owned_by_caller(world, found):  # another partner's: 404, as with Linq
        raise not_found(2003, "Attachment", attachment_id)
    if not found.get("_uploaded", True):
        raise LinqError(404, 2007, f"Attachment not ready: {attachment_id} has not been uploaded yet")
    return found


def _media_from_attachment(world: World, attachment_id: str) -> Doc:
    found = attachment(world, attachment_id)
    return {
        "type": "media",
        "id": found.get("id", attachment_id),
        "url": found.get("download_url") or f"{world.config.public_base_url}/attachments/{attachment_id}",
        "filename": found.get("filename", "file"),
        "mime_type": found.get("content_type", "application/octet-stream"),
        "size_bytes": int(found.get("size_bytes", 0)),
        "reactions": [],
    }


def build_parts(world: World, content: Content) -> list[Doc]:
    """Response parts for the request parts (media resolved to id/url/filename/...)."""
    out: list[Doc] = []
    for i, part in enumerate(content.parts):
        kind = part["type"]
        if kind == "text":
            doc: Doc = {"type": "text", "value": part["value"], "reactions": []}
            for key in ("text_decorations", "inline_stickers"):
                if part.get(key):
                    doc[key] = part[key]
            if part.get("mention"):
                doc["mention"] = part["mention"]
                doc["mention_range"] = part.get("mention_range")
                doc["mentions"] = [
                    {
                        "handle": part["mention"],
                        "is_me": False,
                        "range": part.get("mention_range") or [0, len(part["value"])],
                    }
                ]
            out.append(doc)
        elif kind == "media":
            media = (
                _media_from_url(world, part["url"], f"message.parts[{i}].url")
                if part.get("url")
                else _media_from_attachment(world, str(part["attachment_id"]))
            )
            out.append(media)
        elif kind == "link":
            out.append({"type": "link", "value": part["value"], "reactions": []})
        elif kind == "imessage_app":
            out.append(
                {
                    "type": "imessage_app",
                    "app": dict(part["app"]),
                    "layout": dict(part["layout"]),
                    "url": part.get("url") or "",
                    "fallback_text": part.get("fallback_text") or part["layout"].get("caption"),
                    "reactions": [],
                }
            )
        elif kind == "app_clip":
            out.append({"type": "app_clip", "value": part["value"], "title": part.get("caption"), "reactions": []})
    if content.experience is not None:
        exp = content.experience
        out.append(
            {
                "type": "imessage_app",
                "app": {"bundle_id": "com.linqapp.experiences", "name": "Linq", "team_id": "LINQAPP000"},
                "layout": {"caption": f"{exp['name']}: {exp['action']}"},
                "url": f"https://linqapp.com/x/{exp['name']}/{exp['action']}",
                "fallback_text": f"{exp['name']}: {exp['action']}",
                "reactions": [],
            }
        )
    return out


def new_message(
    world: World,
    chat: Doc,
    *,
    parts: list[Doc] | None,
    service: str,
    is_from_me: bool,
    sender: str,
    content: Content | None = None,
    kind: str = "message",
) -> Doc:
    """Store a message in ``chat`` (outbound: pending; inbound: received)."""
    now = world.iso()
    sender_handle = next((h for h in chat["handles"] if h["handle"].lower() == sender.lower()), None)
    if sender_handle is None:
        sender_handle = make_handle(world, sender, service)
    message: Doc = {
        "id": world.new_id(),
        "chat_id": chat["id"],
        "is_from_me": is_from_me,
        "is_delivered": False,
        "is_read": False,
        "delivery_status": "pending" if is_from_me else "received",
        "created_at": now,
        "updated_at": now,
        "sent_at": None if is_from_me else now,
        "delivered_at": None,
        "read_at": None,
        "service": service,
        "preferred_service": content.preferred_service if content and is_from_me else None,
        "from": sender,
        "from_handle": dict(sender_handle),
        "parts": parts,
        "reply_to": content.reply_to if content else None,
        "effect": content.effect if content and service == "iMessage" else None,
        "_idempotency_key": content.idempotency_key if content else None,
        "_edits": 0,
        "_kind": kind,
        "_sent_ts": None,
        "_created_ts": world.now(),
    }
    world.messages[message["id"]] = message
    chat["_message_ids"].append(message["id"])
    chat["updated_at"] = now
    chat["_last_activity"] = world.now()
    return message


def _presigned(world: World, message: Doc) -> Doc:
    """A scrubbed copy whose media part URLs are freshly presigned for an hour (B.2)."""
    view: Doc = scrub(message)
    for part in view.get("parts") or []:
        if part.get("type") == "media":
            part["url"] = presign.media_url(world, part.get("url"))
    return view


def sent_view(world: World, message: Doc) -> Doc:
    """``SentMessage``: the shape send and create-chat return."""
    keys = (
        "id", "parts", "sent_at", "delivered_at", "delivery_status", "is_read", "created_at", "service",
        "preferred_service", "effect", "from_handle", "reply_to",
    )  # fmt: skip
    full = _presigned(world, message)
    return {k: full.get(k) for k in keys}


def message_view(world: World, message: Doc) -> Doc:
    """``Message``: the shape retrieve, list and thread return."""
    return _presigned(world, message)


# what Linq reads from people ------------------------------------------------------------------
OPTOUT_KEYWORDS = {"STOP", "UNSUBSCRIBE", "OPTOUT", "CANCEL", "END", "QUIT"}


def is_optout_keyword(text: str) -> bool:
    """Linq's rule: the whole trimmed text is a keyword, case exact; "OPT OUT" in any form."""
    trimmed = text.strip()
    if trimmed in OPTOUT_KEYWORDS:
        return True
    return re.sub(r"[\s-]", "", trimmed).lower() == "optout"


def note_inbound_text(world: World, chat: Doc, sender: str, text: str) -> None:
    """Opt a person out on a keyword in a direct chat, back in on any later message."""
    if is_optout_keyword(text):
        if not chat["is_group"]:
            world.opted_out.add(sender)
            chat["health_status"] = health(world, "OPTED_OUT")
        return
    if sender in world.opted_out:
        world.opted_out.discard(sender)
        for other in world.chats.values():
            if other["health_status"]["status"] == "OPTED_OUT" and sender in other_handles(other):
                other["health_status"] = health(world)


def has_receipts(chat: Doc, message: Doc) -> bool:
    """Linq reports delivered/read for iMessage 1:1 chats only."""
    return not chat["is_group"] and message["service"] == "iMessage"


def poll_event(world: World, chat: Doc, message: Doc) -> dict[str, Any]:
    poll = message["_poll"]
    return {
        "chat": chat_ref(chat),
        "direction": "outbound" if message["is_from_me"] else "inbound",
        "message_id": message["id"],
        "poll": {"options": copy.deepcopy(poll["options"]), "total_voters": total_voters(poll)},
        "service": message["service"],
        "sender_handle": dict(message["from_handle"]),
        "sent_at": message.get("sent_at"),
        "delivered_at": message.get("delivered_at"),
        "read_at": message.get("read_at"),
        "created_at": message["created_at"],
        "updated_at": message["updated_at"],
    }


def total_voters(poll: Doc) -> int:
    return len({v["handle"] for option in poll["options"] for v in option["voters"]})


# inbound ------------------------------------------------------------------------------------
async def receive(
    world: World,
    line_number: str,
    sender: str,
    parts: list[Doc],
    *,
    chat: Doc | None = None,
    trace_id: str | None = None,
) -> Doc | None:
    """A message a person sent to our line; None when their handle is blocked (dropped)."""
    if sender.lower() in {h.lower() for h in world.blocked}:
        world.count("inbound.dropped_blocked")
        return None
    line = line_for(world, line_number, "to")
    created = False
    if chat is None:
        chat = find_chat(world, line_number, [sender])
        if chat is None:
            service = pick_service(world, line, [sender], None)
            chat = new_chat(world, line, [sender], service)
            created = True
    if created:
        await announce_chat(world, chat, trace_id)
    service = next((h["service"] for h in others(chat) if h["handle"].lower() == sender.lower()), chat["service"])
    message = new_message(world, chat, parts=parts, service=service, is_from_me=False, sender=sender)
    world.count("messages.received")
    text = " ".join(p.get("value", "") for p in parts if p.get("type") == "text")
    note_inbound_text(world, chat, sender, text)
    await emit_message(world, "message.received", chat, message, trace_id)
    return message


# events -------------------------------------------------------------------------------------
def _event_parts(message: Doc) -> list[Doc]:
    return [scrub({k: v for k, v in p.items() if k != "reactions"}) for p in (message.get("parts") or [])]


def chat_ref(chat: Doc) -> Doc:
    return {"id": chat["id"], "is_group": chat["is_group"], "owner_handle": dict(me(chat))}


def event_v2026(chat: Doc, message: Doc) -> Doc:
    return {
        "id": message["id"],
        "chat": {**chat_ref(chat), "health_status": dict(chat["health_status"])},
        "direction": "outbound" if message["is_from_me"] else "inbound",
        "sender_handle": dict(message["from_handle"]),
        "parts": _event_parts(message),
        "effect": message.get("effect"),
        "reply_to": message.get("reply_to"),
        "sent_at": message.get("sent_at"),
        "delivered_at": message.get("delivered_at"),
        "read_at": message.get("read_at"),
        "service": message["service"],
        "preferred_service": message.get("preferred_service"),
        "idempotency_key": message.get("_idempotency_key"),
    }


def event_v2025(event_type: str, chat: Doc, message: Doc) -> Doc:
    inbound = not message["is_from_me"]
    ours = me(chat)
    data: Doc = {
        "chat_id": chat["id"],
        "is_group": chat["is_group"],
        "idempotency_key": message.get("_idempotency_key"),
        "from": message["from"],
        "from_handle": dict(message["from_handle"]),
        "message": {
            "id": message["id"],
            "parts": _event_parts(message),
            "is_delivered": message["is_delivered"],
            "is_read": message["is_read"],
            "sent_at": message.get("sent_at"),
            "delivered_at": message.get("delivered_at"),
            "read_at": message.get("read_at"),
            "created_at": message["created_at"],
            "updated_at": message["updated_at"],
        },
        "recipient_phone": ours["handle"] if inbound else None,
        "recipient_handle": dict(ours) if inbound else None,
        "is_from_me": message["is_from_me"],
        "received_at": message.get("sent_at") if inbound else None,
        "service": message["service"],
        "preferred_service": message.get("preferred_service"),
    }
    # The 2025-01-01 MessagePayload types effect and reply_to as objects (not nullable): absent
    # when the message has none, never null.
    for key in ("effect", "reply_to"):
        if message.get(key) is not None:
            data["message"][key] = message[key]
    if event_type == "message.delivered":
        data["message_id"] = message["id"]
        data["delivered_at"] = message.get("delivered_at")
    if event_type == "message.read":
        data["message_id"] = message["id"]
        data["read_at"] = message.get("read_at")
    return data


async def emit_message(world: World, event_type: str, chat: Doc, message: Doc, trace_id: str | None) -> None:
    await world.emit(
        event_type,
        event_v2026(chat, message),
        data_v2025=event_v2025(event_type, chat, message),
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


async def fail(world: World, chat: Doc, message: Doc, code: int, reason: str, trace_id: str | None) -> None:
    message["delivery_status"] = "failed"
    message["updated_at"] = world.iso()
    await world.emit(
        "message.failed",
        {
            "code": code,
            "failed_at": world.iso(),
            "chat_id": chat["id"],
            "message_id": message["id"],
            "reason": reason,
            "service": message["service"],
            "preferred_service": message.get("preferred_service"),
        },
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


# pagination ---------------------------------------------------------------------------------
def page_limit(query: Any, default: int) -> int:
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit", "must be an integer between 1 and 100") from None
    if not 1 <= limit <= 100:
        raise invalid("limit", "must be an integer between 1 and 100")
    return limit


def encode_cursor(offset: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    import base64

    if cursor is None or cursor == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, value = raw.partition(":")
        offset = int(value)
        if tag != "o" or offset < 0:
            raise ValueError(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid("cursor", "is not a cursor this API returned") from None
    return offset


def paginate(items: list[Doc], query: Any, default_limit: int) -> tuple[list[Doc], str | None]:
    limit = page_limit(query, default_limit)
    offset = decode_cursor(query.get("cursor"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, encode_cursor(offset + limit) if more else None
