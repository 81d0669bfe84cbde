"""Validation of the identifiers the switchboard is built from (pure functions)."""

from __future__ import annotations

import re

from pbx.errors import ValidationError

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_EXTENSION_RE = re.compile(r"^[1-9][0-9]{1,5}$")
_ORG_RE = re.compile(r"^(\d{6})-?(\d{4})$")
# Numbers the switchboard itself answers; an extension may not shadow them.
RESERVED_EXTENSIONS = frozenset({"333"})


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def org_number(value: str) -> str:
    """A Swedish organisationsnummer, NNNNNN-NNNN with a valid check digit."""
    match = _ORG_RE.match(value.strip())
    if not match or not luhn_ok(match.group(1) + match.group(2)):
        raise ValidationError(
            "org_number", "organisation number must be NNNNNN-NNNN with a valid check digit"
        )
    return f"{match.group(1)}-{match.group(2)}"


def slug(value: str) -> str:
    value = value.strip().lower()
    if not _SLUG_RE.match(value):
        raise ValidationError("slug", "short name must be 3–40 lowercase letters, digits or dashes")
    return value


def email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise ValidationError("email", "not a valid e-mail address")
    local, _, domain = value.partition("@")
    return f"{local}@{domain.lower()}"


def looks_like_extension(value: str) -> bool:
    """2–6 digits, not starting with 0: the one extension pattern (a destination that is not
    one is read as an outside number)."""
    return _EXTENSION_RE.match(value) is not None


def extension(value: str) -> str:
    value = value.strip()
    if not looks_like_extension(value):
        raise ValidationError("extension", "extension must be 2–6 digits, not starting with 0")
    if value in RESERVED_EXTENSIONS:
        raise ValidationError(
            "extension",
            f"{value} is the voicemail service number",
            code="reserved_extension",
            params={"extension": value},
        )
    return value


# Characters no name may hold: NUL and the other control characters (PostgreSQL refuses NUL
# outright), and the bidirectional embeddings, overrides and isolates that make a name read
# differently from what it is ("Trojan Source", U+202A–U+202E and U+2066–U+2069).
_FORBIDDEN_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def name(value: str, field: str = "name", max_length: int = 200) -> str:
    if _FORBIDDEN_IN_NAMES.search(value.replace("\t", " ").replace("\n", " ").replace("\r", " ")):
        raise ValidationError(
            field, "must not contain control or text-direction characters", code="bad_characters"
        )
    value = " ".join(value.split())
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationError(
            field,
            f"must be at most {max_length} characters",
            code="too_long",
            params={"max_length": max_length},
        )
    return value
