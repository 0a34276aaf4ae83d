"""Write linq_mcp/spec/linq-v2.openapi.json: Linq's legacy V2 API as linq-mcp ships it.

The V2 surface is small and frozen (api-catalog.md section E: 29 HTTP operations; the
contact update answers to PUT and PATCH alike, so it is one tool). This script is the
one place its shapes are written down; the JSON it writes is the shipped data that
``linq_mcp/catalog.py`` compiles, exactly like the V3 description:

    python tools/build_v2_spec.py          # rewrite
    python tools/build_v2_spec.py --check  # exit 1 if stale
    python tools/build_catalog.py          # then recompile catalog.json

Every operation carries the same ``x-linq-*`` extensions as V3 (toolset ``v2``,
effect, idempotency), plus what only V2's HTTP shape needs: ``x-linq-wire-name`` (a query
array Rails reads as ``name[]``) and ``x-linq-local`` (an argument linq-mcp uses itself and
never sends). What linq-mcp adds about each tool (reach, repeat-harmless) is in
``linq_mcp/spec/tools.toml``, as for V3.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parents[1] / "linq_mcp" / "spec" / "linq-v2.openapi.json"
V2 = "/api/partner/v2"
PHONE = r"^\+?[1-9]\d{9,14}$"
IDEMPOTENCY_PATTERN = "^[A-Za-z0-9_-]+$"


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


INT = {"type": "integer"}
STR = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
BOOL = {"type": "boolean"}
SERVICE = {"type": "string", "enum": ["iMessage", "SMS", "RCS"]}

SCHEMAS: dict[str, Any] = {
    "V2ChatHandle": obj({"id": INT, "phone_number": STR, "service": SERVICE, "joined_at": TIME}),
    "V2Chat": obj(
        {
            "id": INT,
            "display_name": nullable(STR),
            "service": SERVICE,
            "group": BOOL,
            "message_count": INT,
            "chat_handles": {"type": "array", "items": ref("V2ChatHandle")},
        }
    ),
    "V2Attachment": obj(
        {"id": {"type": "string", "format": "uuid"}, "url": STR, "filename": STR, "mime_type": STR, "file_size": INT}
    ),
    "V2Reaction": obj(
        {
            "id": INT,
            "chat_message_id": INT,
            "reaction": {"type": "string", "enum": ["love", "like", "dislike", "laugh", "emphasize", "question"]},
            "is_from_me": BOOL,
            "from_phone": STR,
            "sent_at": TIME,
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "V2ChatMessage": obj(
        {
            "id": INT,
            "text": nullable(STR),
            "sent_at": nullable(TIME),
            "delivered_at": nullable(TIME),
            "delivery_status": {
                "type": "string",
                "enum": ["pending", "delivered", "rate_limit_exceeded", "service_unavailable", "paused"],
            },
            "edited_at": nullable(TIME),
            "is_read": BOOL,
            "sent_from": STR,
            "chat_handle_id": nullable(INT),
            "attachments": {"type": "array", "items": ref("V2Attachment")},
            "reactions": {"type": "array", "items": ref("V2Reaction")},
        }
    ),
    "V2Meta": obj({"page": INT, "total_pages": INT, "total_count": INT, "per_page": INT}),
    "V2MessageInput": obj(
        {
            "text": {"type": "string", "minLength": 1, "description": "The message text."},
            "idempotency_key": {
                "type": "string",
                "pattern": IDEMPOTENCY_PATTERN,
                "maxLength": 255,
                "description": "A retry with the same key returns the message already sent.",
            },
            "attachment_urls": {
                "type": "array",
                "items": {"type": "string", "format": "uri"},
                "maxItems": 10,
                "description": "Public URLs of files to attach; Linq downloads each (30 s timeout).",
            },
        },
        ("text",),
        additionalProperties=False,
    ),
    "V2Contact": obj(
        {
            "id": INT,
            "first_name": nullable(STR),
            "last_name": nullable(STR),
            "full_name": nullable(STR),
            "email": nullable(STR),
            "phone_number": nullable(STR),
            "company": nullable(STR),
            "title": nullable(STR),
            "location": nullable(STR),
            "image_url": nullable(STR),
            "created_at": TIME,
            "updated_at": TIME,
            "contact_owner": nullable(obj({"id": INT, "email": STR, "first_name": STR, "last_name": STR, "name": STR})),
        }
    ),
    "V2ContactInput": obj(
        {
            "first_name": STR,
            "last_name": STR,
            "email": {"type": "string", "format": "email"},
            "phone_number": {"type": "string", "pattern": PHONE},
            "company": STR,
            "title": STR,
            "location": STR,
        },
        additionalProperties=False,
        description="At least one of first_name, last_name, email or phone_number on create.",
    ),
    "V2Pagination": obj({"current_page": INT, "per_page": INT, "total_pages": INT, "total_count": INT}),
    "V2PhoneNumber": obj(
        {
            "id": INT,
            "phone_number": STR,
            "forwarding_number": nullable(STR),
            "response_rate": nullable(INT),
            "user": nullable(obj({"id": INT, "name": STR, "email": STR})),
        }
    ),
    "V2WebhookSubscription": obj(
        {
            "id": INT,
            "webhook_url": STR,
            "version": INT,
            "events": {"type": "array", "items": STR},
            "active": BOOL,
            "secret_configured": BOOL,
            "last_delivered_at": nullable(TIME),
            "delivery_attempts": INT,
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "V2WebhookSubscriptionInput": obj(
        {
            "webhook_url": {"type": "string", "format": "uri", "description": "Where Linq POSTs events (https)."},
            "version": {"type": "integer", "enum": [2], "description": "Payload version; always 2."},
            "events": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "string",
                    "enum": [
                        "message.sent",
                        "message.received",
                        "message.read",
                        "call.completed",
                        "reaction.sent",
                        "reaction.received",
                        "typing_indicator.received",
                        "typing_indicator.removed",
                        "contact.created",
                        "contact.updated",
                        "contact.deleted",
                        "participant.added",
                        "participant.removed",
                        "chat.created",
                    ],
                },
            },
            "secret": {
                "type": "string",
                "minLength": 16,
                "description": "Your signing secret: deliveries carry X-Webhook-Signature sha256=HMAC(secret, body). "
                "Give linq-mcp the same value (LINQ_WEBHOOK_SECRET).",
            },
            "active": {"type": "boolean", "description": "false pauses delivery."},
        },
        additionalProperties=False,
    ),
}

SCHEMAS["V2WebhookSubscriptionCreate"] = {
    **SCHEMAS["V2WebhookSubscriptionInput"],
    "required": ["webhook_url", "events"],
}

ERROR = {"default": {"$ref": "#/components/responses/Error"}}


def answer(status: int, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": "Success."}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return {str(status): response, **ERROR}


def path_id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"{what} (integer).", "schema": INT}


def query(name: str, schema: dict[str, Any], description: str, *, required: bool = False, **ext: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema, **ext}


PAGE = [
    query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number, from 1."),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}, "Items per page (max 100)."),
]
CHAT_ID = path_id("chat_id", "Chat id")


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def op(
    operation_id: str,
    summary: str,
    description: str,
    effect: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    responses: dict[str, Any],
    idempotency: str = "none",
    pagination: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": operation_id, "summary": summary, "description": description}
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    out["responses"] = responses
    out.update({"x-linq-toolset": "v2", "x-linq-effect": effect, "x-linq-idempotency": idempotency})
    if pagination:
        out["x-linq-pagination"] = pagination
    return out


def data(schema: dict[str, Any]) -> dict[str, Any]:
    return obj({"data": schema}, ("data",))


def page_of(schema: dict[str, Any]) -> dict[str, Any]:
    return obj({"data": {"type": "array", "items": schema}, "meta": ref("V2Meta")}, ("data", "meta"))


CONTACT_BODY = json_body(
    obj(
        {
            "contact": ref("V2ContactInput"),
            "user_email": {
                "type": "string",
                "format": "email",
                "description": "Owner of the contact (a user of your organization); default: the token's user.",
            },
        },
        ("contact",),
    )
)

PATHS: dict[str, Any] = {
    f"{V2}/chats": {
        "get": op(
            "v2_list_chats",
            "List the chats of one of your lines",
            "Lists the chats of your line phone_number, page by page (meta says how many pages). Read-only.",
            "read",
            parameters=[
                query("phone_number", {"type": "string", "pattern": PHONE}, "Your line.", required=True),
                *PAGE,
            ],
            responses=answer(200, page_of(ref("V2Chat"))),
            pagination="page",
        ),
        "post": op(
            "v2_create_chat",
            "Find or create a chat and send its first message",
            "Finds the chat between send_from and exactly these phone_numbers, or creates it, and sends message "
            "into it. Delivers to real people's phones.",
            "send",
            body=json_body(
                obj(
                    {
                        "send_from": {"type": "string", "pattern": PHONE, "description": "Your line to send from."},
                        "chat": obj(
                            {
                                "phone_numbers": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {"type": "string", "pattern": PHONE},
                                    "description": "Recipients (E.164, or 10 digits for +1).",
                                },
                                "display_name": {"type": "string", "description": "Group name (optional)."},
                            },
                            ("phone_numbers",),
                            additionalProperties=False,
                        ),
                        "message": ref("V2MessageInput"),
                    },
                    ("send_from", "chat", "message"),
                )
            ),
            responses=answer(
                200,
                data(
                    obj(
                        {
                            "id": INT,
                            "display_name": nullable(STR),
                            "service": SERVICE,
                            "group": BOOL,
                            "chat_handles": {"type": "array", "items": ref("V2ChatHandle")},
                            "chat_messages": ref("V2ChatMessage"),
                        }
                    )
                ),
            ),
            idempotency="message",
        ),
    },
    f"{V2}/chats/find": {
        "get": op(
            "v2_find_chat",
            "Find the chat with exactly these people",
            "Finds the chat between your line phone_number and exactly phone_numbers; chat is null when there is "
            "none. Read-only.",
            "read",
            parameters=[
                query("phone_number", {"type": "string", "pattern": PHONE}, "Your line.", required=True),
                query(
                    "phone_numbers",
                    {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": PHONE}},
                    "The other participants.",
                    required=True,
                    **{"x-linq-wire-name": "phone_numbers[]"},
                ),
            ],
            responses=answer(200, data(obj({"chat": nullable(ref("V2Chat"))}))),
        )
    },
    f"{V2}/chats/{{chat_id}}": {
        "get": op(
            "v2_get_chat",
            "Get a chat",
            "One chat: service, group flag, message count and participants. Read-only.",
            "read",
            parameters=[CHAT_ID],
            responses=answer(200, data(ref("V2Chat"))),
        )
    },
    f"{V2}/chats/{{chat_id}}/mark_as_read": {
        "put": op(
            "v2_mark_chat_read",
            "Mark a chat as read",
            "Marks every message in the chat as read; the other people see read receipts.",
            "visible",
            parameters=[CHAT_ID],
            responses=answer(204),
        )
    },
    f"{V2}/chats/{{chat_id}}/start_typing": {
        "post": op(
            "v2_start_typing",
            "Show the typing indicator",
            "Shows your typing bubble in the chat for up to 60 seconds; the other people see it.",
            "visible",
            parameters=[CHAT_ID],
            responses=answer(201),
        )
    },
    f"{V2}/chats/{{chat_id}}/stop_typing": {
        "delete": op(
            "v2_stop_typing",
            "Hide the typing indicator",
            "Hides your typing bubble in the chat; the other people see it go.",
            "visible",
            parameters=[CHAT_ID],
            responses=answer(204),
        )
    },
    f"{V2}/chats/{{chat_id}}/share_contact": {
        "post": op(
            "v2_share_contact",
            "Share your contact card in a chat",
            "Sends your line's contact card to the chat. Delivers to real people's phones.",
            "send",
            parameters=[CHAT_ID],
            responses=answer(201),
        )
    },
    f"{V2}/chats/{{chat_id}}/chat_messages": {
        "get": op(
            "v2_list_chat_messages",
            "List a chat's messages",
            "Messages of a chat, page by page; filter by time with before/after, order with sort. Read-only.",
            "read",
            parameters=[
                CHAT_ID,
                *PAGE,
                query("before", TIME, "Only messages sent before this time."),
                query("after", TIME, "Only messages sent after this time."),
                query("sort", {"type": "string", "enum": ["asc", "desc"]}, "Order by time sent."),
            ],
            responses=answer(200, page_of(ref("V2ChatMessage"))),
            pagination="page",
        ),
        "post": op(
            "v2_send_chat_message",
            "Send a message in a chat",
            "Sends message (text, optional attachment_urls) into the chat. Delivers to real people's phones.",
            "send",
            parameters=[CHAT_ID],
            body={
                "required": True,
                "content": {"multipart/form-data": {"schema": obj({"message": ref("V2MessageInput")}, ("message",))}},
            },
            responses=answer(201, data(ref("V2ChatMessage"))),
            idempotency="message",
        ),
    },
    f"{V2}/chats/{{chat_id}}/chat_messages/{{id}}": {
        "get": op(
            "v2_get_chat_message",
            "Get a message",
            "One message of a chat, with attachments and reactions. Read-only.",
            "read",
            parameters=[CHAT_ID, path_id("id", "Message id")],
            responses=answer(200, data(ref("V2ChatMessage"))),
        ),
        "delete": op(
            "v2_delete_chat_message",
            "Delete a message",
            "Deletes the message from Linq's records. Cannot be undone.",
            "destructive",
            parameters=[CHAT_ID, path_id("id", "Message id")],
            responses=answer(200, obj({"message": STR})),
        ),
    },
    f"{V2}/chats/{{chat_id}}/chat_messages/{{id}}/edit": {
        "post": op(
            "v2_edit_chat_message",
            "Edit a sent message",
            "Replaces the text of one of your messages; the other people see the edit.",
            "visible",
            parameters=[CHAT_ID, path_id("id", "Message id")],
            body=json_body(obj({"text": {"type": "string", "minLength": 1}}, ("text",))),
            responses=answer(200, obj({"message": STR, "data": obj({"id": INT, "text": STR})})),
        )
    },
    f"{V2}/chat_messages/{{chat_message_id}}/reactions": {
        "post": op(
            "v2_react_to_chat_message",
            "Add or remove a reaction",
            "Adds or removes a tapback on a message; the other people see it. chat_id is the message's chat, "
            "checked by linq-mcp (not sent).",
            "visible",
            parameters=[
                path_id("chat_message_id", "Message id"),
                query(
                    "chat_id",
                    INT,
                    "The chat the message is in (linq-mcp checks who sees the reaction).",
                    required=True,
                    **{"x-linq-local": True},
                ),
            ],
            body=json_body(
                obj(
                    {
                        "type": {
                            "type": "string",
                            "enum": ["love", "like", "dislike", "laugh", "emphasize", "question"],
                        },
                        "operation": {"type": "string", "enum": ["add", "remove"]},
                    },
                    ("type", "operation"),
                )
            ),
            responses=answer(201, data(ref("V2Reaction"))),
        )
    },
    f"{V2}/chat_message_reactions/{{reaction_id}}": {
        "get": op(
            "v2_get_reaction",
            "Get a reaction",
            "One reaction: its type, who reacted and when. Read-only.",
            "read",
            parameters=[path_id("reaction_id", "Reaction id")],
            responses=answer(200, data(ref("V2Reaction"))),
        )
    },
    f"{V2}/contacts": {
        "get": op(
            "v2_list_contacts",
            "List contacts",
            "Your organization's contacts, page by page (pagination says how many pages). Read-only.",
            "read",
            parameters=PAGE,
            responses=answer(
                200,
                obj(
                    {"contacts": {"type": "array", "items": ref("V2Contact")}, "pagination": ref("V2Pagination")},
                    ("contacts", "pagination"),
                ),
            ),
            pagination="page",
        ),
        "post": op(
            "v2_create_contact",
            "Create a contact",
            "Adds a contact to your organization's address book; nobody is messaged.",
            "create",
            body=CONTACT_BODY,
            responses=answer(201, data(ref("V2Contact"))),
        ),
    },
    f"{V2}/contacts/find": {
        "get": op(
            "v2_find_contact",
            "Find a contact by email or phone number",
            "The contact whose email or phone_number matches (either may match; the phone is normalised), or "
            "contact null. Read-only.",
            "read",
            parameters=[
                query("email", {"type": "string", "format": "email"}, "Email to match."),
                query("phone_number", {"type": "string", "pattern": PHONE}, "Phone number to match."),
            ],
            responses=answer(200, obj({})),
        )
    },
    f"{V2}/contacts/{{id}}": {
        "get": op(
            "v2_get_contact",
            "Get a contact",
            "One contact of your organization. Read-only.",
            "read",
            parameters=[path_id("id", "Contact id")],
            responses=answer(200, data(ref("V2Contact"))),
        ),
        "patch": op(
            "v2_update_contact",
            "Update a contact",
            "Changes the given fields of a contact (PUT and PATCH are the same at Linq); nobody is messaged.",
            "mutate",
            parameters=[path_id("id", "Contact id")],
            body=CONTACT_BODY,
            responses=answer(200, data(ref("V2Contact"))),
        ),
        "delete": op(
            "v2_delete_contact",
            "Delete a contact",
            "Removes the contact from your address book. Cannot be undone.",
            "destructive",
            parameters=[path_id("id", "Contact id")],
            responses=answer(204),
        ),
    },
    f"{V2}/phone_numbers": {
        "get": op(
            "v2_list_phone_numbers",
            "List your lines",
            "Your organization's phone numbers, with forwarding number and response rate. Read-only.",
            "read",
            responses=answer(
                200, obj({"phone_numbers": {"type": "array", "items": ref("V2PhoneNumber")}}, ("phone_numbers",))
            ),
        )
    },
    f"{V2}/phone_numbers/{{id}}": {
        "put": op(
            "v2_update_phone_number",
            "Set a line's call forwarding",
            "Sets where calls to the line are forwarded (an empty forwarding_number clears it); nobody is messaged.",
            "mutate",
            parameters=[path_id("id", "Phone number id")],
            body=json_body(
                obj(
                    {
                        "forwarding_number": {
                            "type": "string",
                            "pattern": r"^(\+?[1-9]\d{9,14})?$",
                            "description": "Number to forward calls to; empty to clear.",
                        }
                    },
                    ("forwarding_number",),
                )
            ),
            responses=answer(200, ref("V2PhoneNumber")),
        )
    },
    f"{V2}/webhook_subscriptions": {
        "get": op(
            "v2_list_webhook_subscriptions",
            "List webhook subscriptions",
            "Your V2 webhook subscriptions; secrets show only as secret_configured. Read-only.",
            "read",
            responses=answer(
                200,
                obj(
                    {"webhook_subscriptions": {"type": "array", "items": ref("V2WebhookSubscription")}},
                    ("webhook_subscriptions",),
                ),
            ),
        ),
        "post": op(
            "v2_create_webhook_subscription",
            "Subscribe a URL to events",
            "Creates a V2 webhook subscription (a duplicate one means duplicate deliveries); nobody is messaged.",
            "create",
            body=json_body(
                obj({"webhook_subscription": ref("V2WebhookSubscriptionCreate")}, ("webhook_subscription",))
            ),
            responses=answer(
                201, obj({"webhook_subscription": ref("V2WebhookSubscription")}, ("webhook_subscription",))
            ),
        ),
    },
    f"{V2}/webhook_subscriptions/{{webhook_subscription_id}}": {
        "put": op(
            "v2_update_webhook_subscription",
            "Change a webhook subscription",
            "Changes the URL, events, secret or active flag of a subscription; nobody is messaged.",
            "mutate",
            parameters=[path_id("webhook_subscription_id", "Subscription id")],
            body=json_body(obj({"webhook_subscription": ref("V2WebhookSubscriptionInput")}, ("webhook_subscription",))),
            responses=answer(
                200, obj({"webhook_subscription": ref("V2WebhookSubscription")}, ("webhook_subscription",))
            ),
        ),
        "delete": op(
            "v2_delete_webhook_subscription",
            "Delete a webhook subscription",
            "Stops and removes the subscription. Cannot be undone.",
            "destructive",
            parameters=[path_id("webhook_subscription_id", "Subscription id")],
            responses=answer(204),
        ),
    },
    f"{V2}/i_message_availability/check": {
        "post": op(
            "v2_check_imessage_availability",
            "Check whether a number has iMessage",
            "Whether phone_number can receive iMessage; at most 1 request per 10 seconds. Read-only.",
            "read",
            body=json_body(
                obj(
                    {"phone_number": {"type": "string", "pattern": PHONE, "description": "Number to check."}},
                    ("phone_number",),
                )
            ),
            responses=answer(200, obj({"available": BOOL, "phone_number": STR}, ("available",))),
        )
    },
}


def build() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Linq Partner API V2 (legacy; linq-mcp build)",
            "version": "2",
            "description": "The legacy V2 API (integer ids, X-LINQ-INTEGRATION-TOKEN), from api-catalog.md section E "
            "and the V2 reference pages. Written by tools/build_v2_spec.py.",
        },
        "servers": [{"url": "https://api.linqapp.com", "description": "Production"}],
        "security": [{"IntegrationToken": []}],
        "x-linq-api": "v2",
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "IntegrationToken": {"type": "apiKey", "in": "header", "name": "X-LINQ-INTEGRATION-TOKEN"}
            },
            "responses": {
                "Error": {
                    "description": "V2 error: {errors:[{status, code, title, detail}]}, or on Contacts and Webhook "
                    "Subscriptions {status, error_code, message, errors:[str]}.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
            "schemas": SCHEMAS,
        },
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file is stale")
    args = parser.parse_args()
    fresh = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != fresh:
            print("linq_mcp/spec/linq-v2.openapi.json is stale: run python tools/build_v2_spec.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(fresh, encoding="utf-8")
    print(f"wrote {TARGET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
