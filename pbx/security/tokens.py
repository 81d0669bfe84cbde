"""Single-use tokens for password-reset and account-setup links (SECURITY.md item 4).

The token (256 random bits, URL-safe) goes into the link only; the database keeps its
SHA-256, so a leaked table cannot be turned into working links. A plain hash is enough because
the token is random, not chosen by a person. Look the submitted token up by its hash, check
`is_expired` with the caller's clock, and consume it atomically
(`... WHERE token_hash = :h AND used_at IS NULL`, rowcount 1) so a link works once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_BYTES = 32
RESET_TOKEN_LIFETIME = timedelta(hours=1)
SETUP_TOKEN_LIFETIME = timedelta(hours=72)
# token_urlsafe(32) gives 43 characters; allow some slack, refuse anything else before hashing.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,128}")


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `token` for the link, `token_hash` and `expires_at` for the database."""

    token: str
    token_hash: str
    expires_at: datetime


def issue_token(now: datetime, lifetime: timedelta) -> IssuedToken:
    """A fresh token valid from `now` for `lifetime`."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return IssuedToken(token=token, token_hash=hash_token(token), expires_at=now + lifetime)


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what is stored and what a submitted token is looked up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(submitted: str) -> bool:
    """Whether a submitted string can be a token at all (reject junk before any lookup)."""
    return _TOKEN_SHAPE.fullmatch(submitted) is not None


def token_matches(submitted: str, stored_hash: str) -> bool:
    """Constant-time comparison of a submitted token with a stored hash."""
    return looks_like_token(submitted) and hmac.compare_digest(hash_token(submitted), stored_hash)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """True from `expires_at` on (the last valid instant is just before it)."""
    return now >= expires_at
