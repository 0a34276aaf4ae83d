"""The event filters both event logs share, spelled once for either placeholder style.

SQLite takes ``?`` and PostgreSQL (psycopg) ``%s``; the clauses are otherwise the same SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["COLUMNS", "list_filter", "read_filter"]

COLUMNS = "seq, received_at, source, event_json, raw_json"


def list_filter(
    mark: str,
    chat_id: str | None,
    types: Iterable[str] | None,
    after_seq: int | None,
    before_seq: int | None,
) -> tuple[str, list[Any]]:
    """``WHERE …`` (or "") and its arguments: by chat, types (``"message.*"`` is a family) and seq."""
    clauses: list[str] = []
    args: list[Any] = []
    if chat_id is not None:
        clauses.append(f"chat_id = {mark}")
        args.append(chat_id)
    type_list = list(types) if types is not None else None
    if type_list is not None:
        exact = [t for t in type_list if not t.endswith(".*")]
        families = [t[:-1] for t in type_list if t.endswith(".*")]
        ors = []
        if exact:
            ors.append(f"event_type IN ({','.join([mark] * len(exact))})")
            args.extend(exact)
        for fam in families:
            ors.append(f"substr(event_type, 1, {mark}) = {mark}")
            args.extend([len(fam), fam])
        clauses.append(f"({' OR '.join(ors)})" if ors else "1 = 0")
    if after_seq is not None:
        clauses.append(f"seq > {mark}")
        args.append(after_seq)
    if before_seq is not None:
        clauses.append(f"seq < {mark}")
        args.append(before_seq)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), args


def read_filter(
    mark: str,
    event_ids: Sequence[str] | None,
    message_ids: Sequence[str] | None,
    chat_id: str | None,
    up_to_seq: int | None,
    everything: bool,
) -> tuple[str, list[Any]]:
    """The unread inbox items ``mark_read`` selects; at least one selector is required."""
    clauses: list[str] = []
    args: list[Any] = []
    if event_ids is not None:
        clauses.append(f"event_id IN ({','.join([mark] * len(event_ids))})" if event_ids else "1 = 0")
        args.extend(event_ids)
    if message_ids is not None:
        clauses.append(f"message_id IN ({','.join([mark] * len(message_ids))})" if message_ids else "1 = 0")
        args.extend(message_ids)
    if chat_id is not None:
        clauses.append(f"chat_id = {mark}")
        args.append(chat_id)
    if up_to_seq is not None:
        clauses.append(f"seq <= {mark}")
        args.append(up_to_seq)
    if not clauses and not everything:
        raise ValueError("mark_read needs event_ids, message_ids, chat_id, up_to_seq or everything=True")
    return " AND ".join(["inbox_state = 0", *clauses]), args
