"""Handles in one canonical spelling, and the allow/block patterns matched against them.

A phone number is reduced to E.164 with ``phonenumbers`` (after folding unicode
digits and compatibility forms), an email to its trimmed lower-case form, so that no
spelling of a number (spaces, dots, brackets, national format, ``00``, fullwidth or
Arabic-Indic digits) matches differently from another spelling of the same number.
Anything that cannot be read with confidence is not a handle (``None``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# Characters people put between digits. Anything else (letters, ``;ext=``, ``tel:``) is refused.
_SEPARATORS = frozenset(" -.()/\t")
_EMAIL_LOCAL_EXTRA = frozenset("!#$%&'*+/=?^_`{|}~.-")
# The only phone spelling Linq accepts, and the canonical form ``normalize_handle`` produces.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def is_phone(handle: str) -> bool:
    """A canonical phone number (E.164, ASCII digits). Emails never are, whatever they start with."""
    return E164.fullmatch(handle) is not None


def is_email(handle: str) -> bool:
    """A canonical email address (exactly one ``@``)."""
    return handle.count("@") == 1 and not is_phone(handle)


class PatternError(ValueError):
    """An allow/block pattern that cannot be understood; the message says how to write it."""


def normalize_handle(raw: str, default_region: str = "US") -> str | None:
    """The canonical handle (E.164 or lower-case email), or ``None`` if it is not one.

    ``tel:`` / ``mailto:`` links are not handles. Callers send the canonical form
    (``Policy.canonical_handles``), so what was checked is what Linq receives.
    """
    text = _fold(raw)
    if not text:
        return None
    if "@" in text:
        return _normalize_email(text)
    return _normalize_phone(text, default_region)


def _fold(raw: str) -> str:
    """NFKC (fullwidth forms), any unicode decimal digit to ASCII, invisible format chars removed."""
    text = unicodedata.normalize("NFKC", raw)
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width and bidi marks: present in pasted numbers, never meaningful
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None else ch)
    return "".join(out).strip()


def _normalize_phone(text: str, default_region: str) -> str | None:
    body = text[1:] if text.startswith("+") else text
    if not body or any(not (ch.isascii() and ch.isdigit()) and ch not in _SEPARATORS for ch in body):
        return None
    digits = "".join(ch for ch in body if ch.isdigit())
    if not digits:
        return None
    if text.startswith("+"):
        candidate, region = "+" + digits, None
    elif digits.startswith("00"):
        candidate, region = "+" + digits[2:], None  # international prefix used across most of the world
    else:
        candidate, region = digits, default_region
    import phonenumbers  # imported on demand: it costs start-up time

    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_possible_number(number):
        return None
    # Fictional ranges (+1 555 01xx) are "possible" but not "valid"; they are real in tests and the
    # sandbox, so possibility (right length for the country) is the bar, and E.164 the identity.
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalize_email(text: str) -> str | None:
    email = text.lower()
    if not email.isascii() or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    if not local or len(email) > 254:
        return None
    if any(not (ch.isalnum() or ch in _EMAIL_LOCAL_EXTRA) for ch in local):
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_domain_label_ok(label) for label in labels):
        return None
    return email


def _domain_label_ok(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(ch.isalnum() or ch == "-" for ch in label)
    )


@dataclass(frozen=True)
class HandlePattern:
    """One allow/block entry: an exact handle, a ``+<digits>*`` number prefix, an email glob, or ``*``."""

    source: str
    kind: Literal["exact", "phone_prefix", "email_glob", "any"]
    value: str

    def matches(self, handle: str) -> bool:
        """``handle`` must already be canonical (see ``normalize_handle``).

        A number rule only ever matches numbers and an email rule only emails:
        ``+15551230001@evil.com`` starts like ``+1555*`` but is an email address.
        """
        if self.kind == "exact":
            return handle == self.value
        if self.kind == "any":
            return True
        if self.kind == "phone_prefix":
            return is_phone(handle) and handle.startswith(self.value)
        return is_email(handle) and _glob(self.value, handle)


def parse_pattern(text: str, default_region: str = "US") -> HandlePattern:
    """Read one pattern as the operator wrote it; errors say what a valid pattern looks like."""
    raw = text.strip()
    if raw == "*":
        return HandlePattern(text, "any", "*")
    if "@" in raw:
        if "*" in raw:
            glob = _fold(raw).lower()
            probe = glob.replace("*", "x")
            if _normalize_email(probe) is None:
                raise PatternError(f'{text!r} is not an email pattern; write it like "*@example.com"')
            return HandlePattern(text, "email_glob", glob)
        email = normalize_handle(raw, default_region)
        if email is None:
            raise PatternError(f'{text!r} is not an email address; write it like "alice@example.com"')
        return HandlePattern(text, "exact", email)
    if raw.endswith("*"):
        prefix = _fold(raw[:-1])
        digits = "".join(ch for ch in prefix[1:] if ch not in _SEPARATORS)
        if not prefix.startswith("+") or not digits.isdigit() or not digits.isascii() or "*" in prefix:
            raise PatternError(f'{text!r} is not a number prefix; start with + and the country code, e.g. "+1555*"')
        return HandlePattern(text, "phone_prefix", "+" + digits)
    number = normalize_handle(raw, default_region)
    if number is None or "@" in number:
        raise PatternError(
            f'{text!r} is not a phone number or email; use E.164 such as "+15551234567", '
            'a prefix such as "+1555*", or an email pattern such as "*@example.com"'
        )
    return HandlePattern(text, "exact", number)


def _glob(pattern: str, text: str) -> bool:
    """``*`` matches any run of characters; nothing else is special."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == text
    head, *middle, tail = pieces
    if not text.startswith(head) or not text.endswith(tail) or len(text) < len(head) + len(tail):
        return False
    pos, end = len(head), len(text) - len(tail)
    for piece in middle:
        found = text.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def first_match(handle: str, patterns: tuple[HandlePattern, ...]) -> HandlePattern | None:
    return next((p for p in patterns if p.matches(handle)), None)
