"""Single-use recovery codes for a lost authenticator (SECURITY.md item 9).

A code is 12 characters of Crockford's base32 (no I, L, O or U to misread), shown as
"XXXX-XXXX-XXXX": 60 random bits. Only hashes are stored.

Why SHA-256 with a per-code salt rather than Argon2: a slow hash protects *guessable* secrets;
these are 60 random bits, so even with the database in hand an attacker must try ~2^59
SHA-256 evaluations per code on average (years on a GPU), and a code is useless without the
password. Checking one submission against all ten stored hashes then costs microseconds, where
ten Argon2 verifications at production cost would take more than a second per attempt. The
16-byte random salt keeps equal codes from having equal hashes and defeats precomputation.

Using a code must be atomic in the caller, like the TOTP step: mark the matched row used with
`... WHERE id = :id AND used_at IS NULL` and treat rowcount 0 as a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

RECOVERY_CODE_COUNT = 10
CODE_LENGTH = 12
GROUP = 4
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: 5 bits per character
_SCHEME = "sha256"
# What a person may type for a character that is not in the alphabet (Crockford's rules).
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """`count` fresh codes to show the user once ("7K3M-9QXA-2B4F" style)."""
    return [
        _format("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))) for _ in range(count)
    ]


def _format(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise_recovery_code(submitted: str) -> str | None:
    """The canonical 12 characters of a typed code, or None when it cannot be one.

    Case, dashes and spaces do not matter, and O/I/L are read as 0/1.
    """
    raw = "".join(submitted.split()).replace("-", "").upper().translate(_READ_AS)
    if len(raw) != CODE_LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return raw


def hash_recovery_code(code: str) -> str:
    """The string to store for a code: "sha256$<salt hex>$<digest hex>"."""
    raw = normalise_recovery_code(code)
    if raw is None:
        raise ValueError("not a recovery code")
    salt = secrets.token_bytes(16)
    return f"{_SCHEME}${salt.hex()}${_digest(salt, raw).hex()}"


def match_recovery_code(submitted: str, stored_hashes: Sequence[str | None]) -> int | None:
    """Index of the stored hash the submitted code matches, or None.

    Used codes should be left out (or passed as None) by the caller; every stored hash is
    checked, also after a match, so the time taken does not tell which one matched.
    """
    raw = normalise_recovery_code(submitted)
    if raw is None:
        return None
    matched: int | None = None
    for index, stored in enumerate(stored_hashes):
        if stored is not None and _matches(raw, stored) and matched is None:
            matched = index
    return matched


def _matches(raw: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != _SCHEME:
        return False
    try:
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_digest(salt, raw), digest)


def _digest(salt: bytes, raw: str) -> bytes:
    return hashlib.sha256(salt + raw.encode("ascii")).digest()


def hash_recovery_codes(codes: Sequence[str]) -> list[str]:
    """Hashes of all `codes`, in order, for storage."""
    return [hash_recovery_code(code) for code in codes]
