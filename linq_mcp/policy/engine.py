"""The policy engine: one ``check`` before a tool call, one ``record_send`` after a send.

Order of checks (first failure wins): whom the tool reaches → handles readable →
``block_recipients`` → ``allow_recipients`` → ``max_group_size`` → send caps →
confirmation. Caps come before confirmation so a capped call does not spend the
person's token; the token is spent and a cap slot reserved in one locked step.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from linq_mcp.policy.caps import RESERVATION_SECONDS, check_caps
from linq_mcp.policy.config import SafetyConfig, describe
from linq_mcp.policy.confirm import mint_token, verify_token
from linq_mcp.policy.decision import Allowed, ConfirmationRequired, Decision, Refused
from linq_mcp.policy.declines import DECLINE_TTL_SECONDS, call_key
from linq_mcp.policy.handles import first_match, normalize_handle
from linq_mcp.policy.lockdown import redact_inbound, visible_text
from linq_mcp.policy.previews import confirmation_prompt, preview
from linq_mcp.policy.reach import GATED_EFFECTS, ToolReach, direct_handles, participant_handles, tool_reach
from linq_mcp.policy.store import PolicyStore
from linq_mcp.store.base import PolicyState, PolicyTx

_NO_WAY_TO_ASK = (
    "{why} This client cannot ask the person (it does not support elicitation), and the operator set "
    'confirm_fallback = "refuse", so nothing was sent. Tell the person: they can send it from a client that '
    "can ask them, or the operator can change confirm_fallback."
)


class Policy:
    """The safety policy in force for one server, backed by the shared store.

    ``db`` is the store's ``PolicyState`` (SQLite or PostgreSQL), or a SQLite path or
    connection, for which the policy opens (and later closes) its own.
    """

    def __init__(
        self,
        config: SafetyConfig,
        db: str | Path | sqlite3.Connection | PolicyState,
        *,
        clock: Callable[[], float] = time.time,
        token_key: bytes | None = None,
    ) -> None:
        config.validate()
        self.config = config
        self._clock = clock
        self._owned = isinstance(db, str | Path | sqlite3.Connection)
        self._state: PolicyState = PolicyStore(db) if isinstance(db, str | Path | sqlite3.Connection) else db
        # confirm_tokens are signed with the server secret (linq_mcp.secret) when given, so every
        # process agrees; else with the store's own secret
        self._token_key = token_key or self._state.secret

    @property
    def state_secret(self) -> bytes:
        """The store's secret (keys the handle hashes): registered for redaction by the app."""
        return self._state.secret

    def close(self) -> None:
        if self._owned:
            self._state.close()

    # ---- before the call -----------------------------------------------------------

    async def check(
        self,
        tool: str,
        effect: str,
        args: Mapping[str, Any],
        *,
        chat_participants: Iterable[str | Mapping[str, Any]] | None = None,
        confirm_supported: bool = False,
        answered_token: str | None = None,
        idempotency_key: str | None = None,
    ) -> Decision:
        """May this call go ahead? ``chat_participants``: the chat's handles (``get_chat``) for
        tools that act on ``chat_id``/``message_id``. ``confirm_supported``: the client can
        show a form, so a confirmation goes to the person rather than to the assistant, and
        no token path exists (a ``confirm_token`` argument is ignored, a dry run mints none).
        ``answered_token``: the person accepted this call when asked; the server-held token
        minted for the question (never one from the arguments). ``idempotency_key``: the
        caller's key, when Linq de-duplicates it — a retry with the same key is the same send
        and is counted once."""
        reach = tool_reach(tool)
        if reach is None:
            if effect in GATED_EFFECTS:
                return Refused(
                    "unknown_tool",
                    f"{tool} reaches people but the safety policy does not know whom; it is refused "
                    "until linq_mcp.policy.reach lists it.",
                )
            return Allowed(tool)
        resolved = self._resolve(tool, reach, args, chat_participants)
        if isinstance(resolved, Refused):
            return resolved
        new, in_chat = resolved
        reached = tuple(dict.fromkeys([*new, *in_chat]))
        refusal = self._recipient_rules(reached) or self._group_size(tool, reach, new, in_chat)
        if refusal is not None:
            return refusal
        dry_run = args.get("dry_run") is True
        if confirm_supported or self.config.confirm_fallback == "refuse":
            presented = answered_token  # no token path: only the person's answer counts
        else:
            presented = answered_token or args.get("confirm_token")
        return await self._state.atomically(  # the clock is read inside: after any wait for the lock
            lambda tx: self._decide(
                tx, self._clock(), tool, reach, args, reached, dry_run, confirm_supported, idempotency_key, presented
            )
        )

    def _resolve(
        self,
        tool: str,
        reach: ToolReach,
        args: Mapping[str, Any],
        chat_participants: Iterable[str | Mapping[str, Any]] | None,
    ) -> tuple[list[str], list[str]] | Refused:
        """Canonical handles: those the call names, and those already in the chat it acts on."""
        if reach.needs_participants and chat_participants is None:
            where = "chat_id" if reach.via_chat else "message_id"
            return Refused(
                "chat_participants",
                f"{tool} acts on an existing chat ({where}) but its participants were not checked; "
                "the server must fetch the chat (get_chat) and pass its participants to the policy.",
            )
        named = self._normalise(direct_handles(reach, args))
        if isinstance(named, Refused):
            return named
        in_chat = self._normalise(participant_handles(chat_participants or ()) if reach.needs_participants else [])
        if isinstance(in_chat, Refused):
            return in_chat
        return named, in_chat

    def _normalise(self, raw_handles: Sequence[Any]) -> list[str] | Refused:
        out: list[str] = []
        lists_set = bool(self.config.allow_patterns or self.config.block_patterns)
        for raw in raw_handles:
            handle = normalize_handle(raw, self.config.default_region) if isinstance(raw, str) else None
            if handle is None:
                shown = visible_text(str(raw))
                if lists_set:
                    rule = "allow_recipients" if self.config.allow_patterns else "block_recipients"
                    return Refused(
                        rule,
                        f"{shown!r} is not a phone number or email the safety policy can read, so it cannot "
                        f"be checked against {rule}. Use E.164 (+15551234567) or a plain email address.",
                        shown,
                    )
                handle = shown.strip()
            out.append(handle)
        return out

    def _recipient_rules(self, reached: Sequence[str]) -> Refused | None:
        config = self.config
        for handle in reached:
            blocked = first_match(handle, config.block_patterns)
            if blocked is not None:
                return Refused(
                    "block_recipients",
                    f"{handle} matches block_recipients ({blocked.source}); nothing was sent. It cannot be "
                    "reached from this server; ask the operator if that is wrong.",
                    handle,
                )
        if not config.allow_patterns:
            return None
        for handle in reached:
            if first_match(handle, config.allow_patterns) is None:
                patterns = ", ".join(p.source for p in config.allow_patterns)
                return Refused(
                    "allow_recipients",
                    f"{handle} is not in allow_recipients ({patterns}); nothing was sent. If this person "
                    "should be reachable, ask the operator to add them (allow_recipients or --allow-recipient).",
                    handle,
                )
        return None

    def _group_size(self, tool: str, reach: ToolReach, new: list[str], in_chat: list[str]) -> Refused | None:
        limit = self.config.max_group_size
        if reach.new_group:
            size = len(dict.fromkeys(new))
        elif reach.joins_group:
            size = len(dict.fromkeys([*in_chat, *new]))
        else:
            return None
        if size <= limit:
            return None
        return Refused(
            "max_group_size",
            f"{tool} would make a chat with {size} other people (max_group_size = {limit}); nothing was sent. "
            "Use fewer recipients, or ask the operator to raise max_group_size.",
        )

    def _decide(
        self,
        store: PolicyTx,
        now: float,
        tool: str,
        reach: ToolReach,
        args: Mapping[str, Any],
        reached: tuple[str, ...],
        dry_run: bool,
        confirm_supported: bool,
        idempotency_key: str | None,
        presented: str | None = None,
    ) -> Decision:
        """Caps, confirmation, reservation: one atomic step across every process on the store."""
        send_key = store.send_key(tool, idempotency_key, reached) if reach.sends and idempotency_key else None
        earlier = store.find_send(send_key) if send_key is not None else None
        if reach.sends and earlier is None:  # a retry of a counted send is not another send
            refusal = check_caps(self.config, store, reached, now)
            if refusal is not None:
                return refusal
        why = self._confirmation_reason(store, reach, reached)
        consumed, token = False, None
        token_path = not confirm_supported and self.config.confirm_fallback == "token"
        if why is not None:
            if dry_run:
                token = mint_token(self._token_key, tool, args, now)[0] if token_path else None
            elif presented is None:
                if not confirm_supported and not token_path:
                    return Refused("confirm_fallback", _NO_WAY_TO_ASK.format(why=why))
                token, expires = mint_token(self._token_key, tool, args, now)
                return ConfirmationRequired(
                    tool=tool,
                    reached=reached,
                    token=token,
                    expires_at=expires,
                    preview=preview(tool, args, reached),
                    prompt=confirmation_prompt(tool, args, reached),
                    reason=why,
                    via="elicitation" if confirm_supported else "token",
                )
            else:
                checked = verify_token(self._token_key, tool, args, presented, now)
                if checked.problem is not None or checked.nonce is None:
                    return Refused("confirm_token", checked.problem or "confirm_token is not valid.")
                if not store.spend_nonce(checked.nonce, checked.expires_at):
                    return Refused(
                        "confirm_token",
                        "confirm_token was already used; each confirmation allows one call. "
                        "Call again without confirm_token to get a new preview.",
                    )
                consumed = True
        if dry_run:
            return Allowed(tool, reached, dry_run=True, confirm_token=token, needs_confirmation=why is not None)
        rid = None
        if reach.sends and earlier is not None:
            store.hold_again(earlier, now, now + RESERVATION_SECONDS)
            rid = earlier
        elif reach.sends:
            rid = store.hold(now, now + RESERVATION_SECONDS, reached, send_key)
        return Allowed(
            tool,
            reached,
            record=reach.sends or reach.confirms,
            token_consumed=consumed,
            reservation=rid,
            reservation_reused=earlier is not None,
            send_key=send_key,
        )

    def _confirmation_reason(self, store: PolicyTx, reach: ToolReach, reached: tuple[str, ...]) -> str | None:
        if not reach.confirms or not reached or self.config.confirm == "never":
            return None
        if self.config.confirm == "always":
            return "Every send needs the person's confirmation (confirm = always)."
        unknown = store.unknown(reached)
        if not unknown:
            return None
        return f"First contact with {', '.join(unknown)} needs the person's confirmation (confirm = first_contact)."

    # ---- declines -------------------------------------------------------------------

    async def declined_at(self, tool: str, args: Mapping[str, Any]) -> float | None:
        """When the person declined exactly this call, if that was within ``DECLINE_TTL_SECONDS``."""
        return await self._state.declined_at(call_key(self._token_key, tool, args), self._clock() - DECLINE_TTL_SECONDS)

    async def record_decline(self, tool: str, args: Mapping[str, Any]) -> None:
        """The person said no to this exact call: it stays declined, whoever asks again."""
        now = self._clock()
        await self._state.remember_decline(call_key(self._token_key, tool, args), now, now - DECLINE_TTL_SECONDS)

    def canonical_handles(self, tool: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """The handle arguments of an allowed call, spelled as the policy checked them.

        The request carries these, so the person Linq reaches is exactly the canonical
        handle the allow/block rules matched — never another reading of the same string
        (``+1 555…``, fullwidth digits, ``Alice@Example.com``). Unreadable values stay as
        they are (they only get here when no allow/block list is set).
        """
        reach = tool_reach(tool)
        out: dict[str, Any] = {}
        for name in reach.direct if reach is not None else ():
            value = args.get(name)
            if isinstance(value, list | tuple):
                out[name] = [self._canonical(v) for v in value]
            elif value is not None:
                out[name] = self._canonical(value)
        return out

    def _canonical(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return normalize_handle(value, self.config.default_region) or value

    # ---- after the call ------------------------------------------------------------

    async def record_send(
        self,
        tool: str,
        reached_handles: Sequence[str],
        *,
        reservation: int | None = None,
        send_key: str | None = None,
    ) -> None:
        """After a successful (or possibly successful) call whose decision had ``record`` set:
        count it for good, remember the contacts."""
        reach = tool_reach(tool)
        handles = tuple(normalize_handle(h, self.config.default_region) or h for h in reached_handles)
        counts = bool(reach and reach.sends)

        await self._state.record(self._clock(), handles, counts_as_send=counts, send_id=reservation, send_key=send_key)

    async def release(self, decision: Allowed) -> None:
        """The allowed call definitely failed: its held send stops counting (nothing is recorded).

        A hold reused from an earlier call with the same idempotency key is left alone: that
        call may have gone out."""
        if decision.reservation is None or decision.reservation_reused:
            return
        await self._state.release(decision.reservation)

    # ---- inbound and description ---------------------------------------------------

    def redact_inbound(self, record: Mapping[str, Any], sender_handle: str) -> dict[str, Any]:
        return redact_inbound(record, sender_handle, self.config)

    def describe(self) -> str:
        """A few lines for the server's instructions: the rules the assistant works under."""
        return describe(self.config)
