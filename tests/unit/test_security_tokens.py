"""SECURITY.md item 4: single-use, short-lived reset and setup tokens, stored hashed."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from pbx.security.tokens import (
    RESET_TOKEN_LIFETIME,
    hash_token,
    is_expired,
    issue_token,
    looks_like_token,
    token_matches,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_token_is_url_safe_with_at_least_128_bits() -> None:
    issued = issue_token(NOW, RESET_TOKEN_LIFETIME)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", issued.token)
    assert len(issued.token) * 6 >= 128
    assert issue_token(NOW, RESET_TOKEN_LIFETIME).token != issued.token


def test_only_the_sha256_is_stored() -> None:
    issued = issue_token(NOW, RESET_TOKEN_LIFETIME)
    assert issued.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in issued.token_hash
    assert hash_token(issued.token) == issued.token_hash
    assert token_matches(issued.token, issued.token_hash)
    changed = "B" if issued.token.endswith("A") else "A"  # never the same token (1 in 64)
    assert not token_matches(issued.token[:-1] + changed, issued.token_hash)


def test_expiry_uses_the_given_clock() -> None:
    issued = issue_token(NOW, timedelta(hours=1))
    assert issued.expires_at == NOW + timedelta(hours=1)
    assert not is_expired(issued.expires_at, NOW)
    assert not is_expired(issued.expires_at, NOW + timedelta(minutes=59, seconds=59))
    assert is_expired(issued.expires_at, NOW + timedelta(hours=1))
    assert is_expired(issued.expires_at, NOW + timedelta(days=2))


def test_junk_is_not_a_token() -> None:
    assert looks_like_token(issue_token(NOW, RESET_TOKEN_LIFETIME).token)
    for junk in ["", "short", "x" * 129, "a" * 42 + "/", "ä" * 43]:
        assert not looks_like_token(junk)
        assert not token_matches(junk, hash_token(junk))
