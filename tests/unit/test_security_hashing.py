"""SECURITY.md items 1 and 3: Argon2id hashing, NFC, no truncation, rehash on new parameters."""

from __future__ import annotations

import unicodedata

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from pbx.security.hashing import (
    PRODUCTION_PROFILE,
    TEST_ONLY_FAST_PROFILE,
    dummy_hash,
    hash_password,
    needs_rehash,
    profile_named,
    verify_password,
)

FAST = TEST_ONLY_FAST_PROFILE


def test_production_profile_is_argon2id_at_or_above_owasp_floor() -> None:
    stored = hash_password("a long enough passphrase", PRODUCTION_PROFILE)
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert params.type is Type.ID
    assert params.memory_cost >= 19_456
    assert params.time_cost >= 2
    assert params.parallelism >= 1
    assert verify_password(stored, "a long enough passphrase")
    assert not needs_rehash(stored)


def test_profiles_are_chosen_by_name_only_explicitly() -> None:
    assert profile_named("production") is PRODUCTION_PROFILE
    assert profile_named("test-only-fast") is FAST
    with pytest.raises(ValueError, match="unknown"):
        profile_named("fast")


def test_right_password_verifies_and_wrong_does_not() -> None:
    stored = hash_password("correct horse battery staple", FAST)
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapl")
    assert not verify_password(stored, "Correct horse battery staple")


def test_composed_and_decomposed_a_ring_verify_equally() -> None:
    composed = "blåbärssylt på morgonen"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert verify_password(hash_password(composed, FAST), decomposed)
    assert verify_password(hash_password(decomposed, FAST), composed)


def test_spaces_are_not_stripped() -> None:
    stored = hash_password("  mellanslag 😀 runt om  ", FAST)
    assert verify_password(stored, "  mellanslag 😀 runt om  ")
    assert not verify_password(stored, "mellanslag 😀 runt om")


def test_long_passwords_are_not_truncated() -> None:
    password = "x" * 127 + "a"
    stored = hash_password(password, FAST)
    assert verify_password(stored, password)
    assert not verify_password(stored, "x" * 127 + "b")
    assert not verify_password(stored, "x" * 72)  # bcrypt would have cut here


def test_old_parameter_hash_needs_rehash() -> None:
    old = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1).hash("pw")
    assert needs_rehash(old)
    assert needs_rehash(hash_password("pw", FAST))
    assert not needs_rehash(hash_password("pw", FAST), FAST)
    argon2i = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I).hash("pw")
    assert needs_rehash(argon2i, FAST)


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$broken"])
def test_malformed_stored_hash_fails_closed(stored: str) -> None:
    assert not verify_password(stored, "anything at all")
    assert needs_rehash(stored)


def test_dummy_hash_is_a_real_hash_nobody_matches() -> None:
    stored = dummy_hash(FAST)
    assert stored.startswith("$argon2id$")
    assert not verify_password(stored, "")
    assert dummy_hash(FAST) == stored  # computed once
