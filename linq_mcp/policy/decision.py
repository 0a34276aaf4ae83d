"""What the policy says about one tool call: allowed, refused, or ask the person first.

Refusals and confirmation requests render to plain dicts (``as_result``) so the server
can return them as structured tool errors the assistant can read and act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Allowed:
    """Go ahead. After a successful call with ``record`` set, call ``Policy.record_send``."""

    tool: str
    reached: tuple[str, ...] = ()
    record: bool = False  # a send (or group join): record it on success, release it on failure
    token_consumed: bool = False
    dry_run: bool = False
    # dry run only: a real call would need the person's confirmation; this token will do
    # (None where the person is asked directly, or where confirm_fallback = "refuse")
    confirm_token: str | None = None
    needs_confirmation: bool = False  # dry run only: a real call would need the person's confirmation
    reservation: int | None = field(default=None, compare=False)  # the held send (PolicyStore.hold)
    # the hold belongs to an earlier call with the same idempotency key: never release it
    reservation_reused: bool = field(default=False, compare=False)
    send_key: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Refused:
    """Not sent. ``rule`` is the config key (or check) that refused; ``message`` says what to do."""

    rule: str
    message: str
    handle: str | None = None

    def as_result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": "policy_refused", "rule": self.rule, "message": self.message}
        if self.handle is not None:
            out["handle"] = self.handle
        out["fix"] = "This was refused by the operator's safety settings; only the user can change them."
        out["retryable"] = False
        return out


@dataclass(frozen=True)
class ConfirmationRequired:
    """Nothing sent yet: the person must agree to exactly this call.

    ``via="elicitation"``: the server asks the person with ``prompt`` and, on "accept",
    calls ``Policy.check`` again with ``confirm_token`` added; the token stays server-side.
    ``via="token"``: ``as_result()`` goes back to the assistant, which shows the preview to
    the person and repeats the identical call with ``confirm_token`` once they agree.
    """

    tool: str
    reached: tuple[str, ...]
    token: str
    expires_at: float
    preview: dict[str, Any]
    prompt: str
    reason: str
    via: Literal["elicitation", "token"]

    def as_result(self) -> dict[str, Any]:
        return {
            "error": "confirmation_required",
            "rule": "confirm",
            "message": (
                f"{self.reason} Nothing was sent. Show the person this preview; only if they agree, "
                "repeat the identical call with confirm_token set (valid 10 minutes, once)."
            ),
            "preview": self.preview,
            "confirm_token": self.token,
        }


Decision = Allowed | Refused | ConfirmationRequired
