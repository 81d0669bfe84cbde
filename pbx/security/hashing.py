"""Password hashing with Argon2id (SECURITY.md item 3).

The cost parameters live in a `HashProfile`. Production uses RFC 9106's "low memory" choice
(t=3, 64 MiB, p=4), above OWASP's floor (t=2, 19 MiB, p=1) in every parameter; it is spelt out
here rather than taken from argon2-cffi's defaults so that a library upgrade cannot change our
hashes silently (a deliberate change shows up through `needs_rehash` at the next login).
The test profile is cheap and insecure and is used only where configuration names it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class HashProfile:
    """Argon2id cost parameters; memory in KiB as argon2-cffi counts it."""

    name: str
    time_cost: int
    memory_cost_kib: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


PRODUCTION_PROFILE = HashProfile(
    "production", time_cost=3, memory_cost_kib=64 * 1024, parallelism=4
)
# Minimum legal Argon2 memory: milliseconds less per test. Never for real accounts.
TEST_ONLY_FAST_PROFILE = HashProfile(
    "test-only-fast", time_cost=1, memory_cost_kib=8, parallelism=1
)
PROFILES = {p.name: p for p in (PRODUCTION_PROFILE, TEST_ONLY_FAST_PROFILE)}


def profile_named(name: str) -> HashProfile:
    """The profile a setting names ("production" or "test-only-fast")."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown password hash profile {name!r}") from None


@cache
def _hasher(profile: HashProfile) -> PasswordHasher:
    return PasswordHasher(
        time_cost=profile.time_cost,
        memory_cost=profile.memory_cost_kib,
        parallelism=profile.parallelism,
        hash_len=profile.hash_len,
        salt_len=profile.salt_len,
        type=Type.ID,
    )


def _nfc(password: str) -> str:
    # The same normalisation as the policy, so "å" typed composed or decomposed is one password.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str, profile: HashProfile = PRODUCTION_PROFILE) -> str:
    """The PHC string ("$argon2id$v=19$m=...") to store for `password`."""
    return _hasher(profile).hash(_nfc(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` matches; the parameters are read from the stored hash itself.

    A malformed or empty stored hash (an account that never set a password) is a plain
    False: login fails closed and the caller's message stays the same.
    """
    try:
        return _hasher(PRODUCTION_PROFILE).verify(stored_hash, _nfc(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, profile: HashProfile = PRODUCTION_PROFILE) -> bool:
    """True when the hash was made with other parameters: rehash after a successful login."""
    try:
        return _hasher(profile).check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash(profile: HashProfile = PRODUCTION_PROFILE) -> str:
    """A hash to verify against when the account does not exist, so that an unknown e-mail
    costs the same time as a wrong password (SECURITY.md item 12)."""
    return hash_password("no account has this password: timing equaliser", profile)
