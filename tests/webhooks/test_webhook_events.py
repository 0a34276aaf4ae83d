"""Normalisation: every OAS example (both payload versions) becomes the same ``Event`` shape."""

from __future__ import annotations

import json

import pytest
from webhook_helpers import FIXTURES, envelope, fixture_names, load_fixture

from linq_mcp.webhooks import Event, InvalidEventError, event_from_json, normalise

EVENT_TYPES = {
    "message.sent", "message.received", "message.read", "message.delivered", "message.failed",
    "reaction.added", "reaction.removed", "participant.added", "participant.removed", "chat.created",
    "chat.group_name_updated", "chat.group_icon_updated", "chat.group_name_update_failed",
    "chat.group_icon_update_failed", "chat.typing_indicator.started", "chat.typing_indicator.stopped",
    "phone_number.status_updated",
}  # fmt: skip


def test_fixtures_cover_every_event_type_in_both_versions() -> None:
    names = set(fixture_names())
    assert names == {f"{t}.{v}" for t in EVENT_TYPES for v in ("v2025", "v2026")}


def test_fixture_manifest_marks_the_ten_literal_examples() -> None:
    manifest = json.loads((FIXTURES / "_manifest.json").read_text())
    assert sorted(k for k, v in manifest.items() if v == "example") == sorted(
        [f"message.{k}.{v}" for k in ("sent", "received", "read", "delivered") for v in ("v2025", "v2026")]
        + ["phone_number.status_updated.v2025", "phone_number.status_updated.v2026"]
    )


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_normalises_with_its_envelope(name: str) -> None:
    payload = load_fixture(name)
    event = normalise(payload)
    expected_version = "2025-01-01" if name.endswith("v2025") else "2026-02-03"
    assert (event.event_id, event.event_type, event.webhook_version) == (
        payload["event_id"],
        name.rsplit(".", 1)[0],
        expected_version,
    )
    assert event.raw == payload and event.trace_id == payload["trace_id"] and event.partner_id


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_round_trips_through_json(name: str) -> None:
    event = normalise(load_fixture(name))
    assert event_from_json(event.to_json()) == event


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_message_sent_is_outbound_from_our_line_with_text_joined(version: str) -> None:
    e = normalise(load_fixture(f"message.sent.{version}"))
    assert (e.direction, e.sender, e.our_line, e.service) == ("outbound", "+12025551234", "+12025551234", "iMessage")
    assert (e.chat_id, e.message_id) == ("0c961e93-e7bf-4db2-bf7b-ea06826bcab4", "347d62c2-2170-4754-8d30-c76d0c727d96")
    assert e.text == "Hello from Linq!" and [p["type"] for p in e.parts] == ["text", "media"]
    assert (e.sent_at, e.delivered_at, e.read_at) == ("2026-02-05T19:52:17.219Z", None, None)


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_message_received_is_inbound_from_the_other_handle(version: str) -> None:
    e = normalise(load_fixture(f"message.received.{version}"))
    assert (e.direction, e.sender, e.our_line, e.text) == ("inbound", "+12025559876", "+12025551234", "Hello!")
    assert (e.chat_id, e.message_id, e.is_group) == (
        "8f392755-6865-4b18-880a-227f9d8b458f",
        "89e3566e-1d13-49e5-a8ee-48490d5bfeb7",
        False,
    )
    assert e.is_inbound_message


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_message_delivered_carries_delivered_at(version: str) -> None:
    e = normalise(load_fixture(f"message.delivered.{version}"))
    assert (e.message_id, e.delivered_at, e.read_at, e.direction) == (
        "347d62c2-2170-4754-8d30-c76d0c727d96",
        "2026-02-05T19:52:22.291Z",
        None,
        "outbound",
    )


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_message_read_carries_read_at(version: str) -> None:
    e = normalise(load_fixture(f"message.read.{version}"))
    assert (e.message_id, e.delivered_at, e.read_at) == (
        "dc6d3f68-90df-48f0-a504-e65f239a383c",
        "2026-02-05T19:13:57.948Z",
        "2026-02-05T19:13:58.177Z",
    )


def test_both_versions_of_a_message_event_normalise_to_the_same_fields() -> None:
    old, new = (normalise(load_fixture(f"message.received.{v}")).to_dict(include_raw=False) for v in ("v2025", "v2026"))
    for d in (old, new):
        d.pop("webhook_version")
    assert old == new


def test_2025_read_event_prefers_top_level_read_at_and_message_id() -> None:
    payload = load_fixture("message.read.v2025")
    payload["data"]["read_at"] = "2026-02-05T19:14:00Z"
    payload["data"]["message_id"] = payload["data"]["message"]["id"]
    assert normalise(payload).read_at == "2026-02-05T19:14:00Z"


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_message_failed_carries_the_failure_code(version: str) -> None:
    e = normalise(load_fixture(f"message.failed.{version}"))
    assert e.failure is not None and (e.failure.code, e.failure.failed_at) == (3007, "2025-11-23T17:35:00Z")
    assert (e.message_id, e.direction) == ("550e8400-e29b-41d4-a716-446655440001", "outbound")


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_reaction_added_names_who_reacted_to_which_message(version: str) -> None:
    e = normalise(load_fixture(f"reaction.added.{version}"))
    assert e.reaction is not None and (e.reaction.type, e.reaction.part_index) == ("love", 0)
    assert (e.sender, e.direction, e.message_id) == ("+14155559876", "inbound", "550e8400-e29b-41d4-a716-446655440001")


def test_reaction_removed_keeps_the_reaction_fields() -> None:
    e = normalise(load_fixture("reaction.removed.v2026"))
    assert e.event_type == "reaction.removed" and e.reaction is not None and e.reaction.type == "love"


@pytest.mark.parametrize("kind", ["added", "removed"])
def test_participant_events_name_the_participant(kind: str) -> None:
    e = normalise(load_fixture(f"participant.{kind}.v2026"))
    assert e.participant is not None and e.participant.handle == "+14155559876"
    assert e.participant.at == ("2025-11-23T17:40:00Z" if kind == "added" else "2025-11-23T17:45:00Z")
    assert e.chat_id == "550e8400-e29b-41d4-a716-446655440000"


def test_participant_falls_back_to_the_deprecated_handle_string() -> None:
    payload = load_fixture("participant.added.v2025")
    del payload["data"]["participant"]
    e = normalise(payload)
    assert e.participant is not None and e.participant.handle == "+14155559876"


def test_group_name_update_records_old_and_new_values() -> None:
    e = normalise(load_fixture("chat.group_name_updated.v2025"))
    assert e.chat_change is not None
    assert (e.chat_change.field, e.chat_change.old_value, e.chat_change.new_value) == (
        "group_name", "Old Group Name", "New Group Name",
    )  # fmt: skip
    assert e.sender == "+14155559876"


def test_group_icon_update_failure_carries_the_error_code() -> None:
    e = normalise(load_fixture("chat.group_icon_update_failed.v2026"))
    assert e.failure is not None and e.failure.code == 3007
    assert e.chat_change is not None and e.chat_change.field == "group_icon"


def test_chat_created_finds_our_line_among_the_handles() -> None:
    e = normalise(load_fixture("chat.created.v2026"))
    assert (e.chat_id, e.our_line, e.is_group) == ("550e8400-e29b-41d4-a716-446655440000", "+14155551234", True)


def test_typing_indicator_names_the_chat() -> None:
    e = normalise(load_fixture("chat.typing_indicator.started.v2025"))
    assert e.chat_id == "550e8400-e29b-41d4-a716-446655440000" and e.text is None


@pytest.mark.parametrize("version", ["v2025", "v2026"])
def test_phone_number_status_update_carries_the_new_status(version: str) -> None:
    e = normalise(load_fixture(f"phone_number.status_updated.{version}"))
    assert e.line_status is not None and (e.line_status.previous_status, e.line_status.new_status) == (
        "ACTIVE", "FLAGGED",
    )  # fmt: skip
    assert e.our_line == "+12025551234"


def test_message_edited_takes_the_new_part_text() -> None:
    payload = envelope(
        "message.edited",
        {
            "id": "m1",
            "chat": {"id": "c1", "is_group": False, "owner_handle": {"handle": "+12025551234", "is_me": True}},
            "direction": "outbound",
            "sender_handle": {"handle": "+12025551234", "is_me": True},
            "edited_at": "2026-02-05T20:00:00Z",
            "part": {"index": 0, "text": "fixed typo"},
        },
    )
    e = normalise(payload)
    assert (e.message_id, e.chat_id, e.text, e.edited_at) == ("m1", "c1", "fixed typo", "2026-02-05T20:00:00Z")


def test_unknown_event_type_keeps_the_generic_fields() -> None:
    payload = envelope("poll.vote.added", {"chat_id": "c9", "message_id": "m9", "is_from_me": False, "vote": 2})
    e = normalise(payload)
    assert (e.event_type, e.chat_id, e.message_id, e.direction) == ("poll.vote.added", "c9", "m9", "inbound")
    assert e.raw["data"]["vote"] == 2


def test_non_envelope_is_rejected() -> None:
    with pytest.raises(InvalidEventError):
        normalise({"hello": "world"})


def test_non_object_payload_is_rejected() -> None:
    with pytest.raises(InvalidEventError):
        normalise([1, 2, 3])  # type: ignore[arg-type]


def test_event_repr_hides_message_text() -> None:
    e = normalise(load_fixture("message.received.v2026"))
    assert "Hello!" not in repr(e)


def test_event_is_immutable() -> None:
    e: Event = normalise(load_fixture("message.received.v2026"))
    with pytest.raises(AttributeError):
        e.text = "changed"  # type: ignore[misc]
