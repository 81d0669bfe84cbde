"""SECURITY.md item 6: TOTP secrets encrypted at rest, tampering detected."""

from __future__ import annotations

import base64

import pytest

from pbx.security.secretbox import SecretBox, SecretDecryptionError

KEY = "a test secret key that is long enough to be realistic"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_round_trip_with_fresh_nonce_each_time() -> None:
    box = SecretBox(KEY)
    first, second = box.encrypt(SEED, "user:7"), box.encrypt(SEED, "user:7")
    assert first != second
    assert first.startswith("v1.")
    assert SEED not in first
    assert box.decrypt(first, "user:7") == box.decrypt(second, "user:7") == SEED


def flipped(token: str, position: int) -> str:
    blob = bytearray(base64.urlsafe_b64decode(token[3:]))
    blob[position] ^= 0x01
    return "v1." + base64.urlsafe_b64encode(bytes(blob)).decode()


def test_every_flipped_byte_is_detected() -> None:
    box = SecretBox(KEY)
    token = box.encrypt(SEED)
    length = len(base64.urlsafe_b64decode(token[3:]))
    for position in range(length):  # nonce, ciphertext and tag alike
        with pytest.raises(SecretDecryptionError):
            box.decrypt(flipped(token, position))


def test_wrong_key_and_wrong_binding_are_detected() -> None:
    token = SecretBox(KEY).encrypt(SEED, "user:7")
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY + "x").decrypt(token, "user:7")
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY).decrypt(token, "user:8")


@pytest.mark.parametrize("token", ["", "v1.", "v1.!!!!", "v2.AAAA", "AAAA", "v1.QUJD"])
def test_malformed_tokens_raise_the_same_error(token: str) -> None:
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY).decrypt(token)


def test_fallback_keys_read_old_tokens_and_new_tokens_use_the_new_key() -> None:
    old_token = SecretBox("old key").encrypt(SEED)
    rotated = SecretBox("new key", fallback_keys=["old key"])
    assert rotated.decrypt(old_token) == SEED
    with pytest.raises(SecretDecryptionError):
        SecretBox("old key").decrypt(rotated.encrypt(SEED))


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError, match="secret key"):
        SecretBox("")


def test_label_separates_uses_of_one_key() -> None:
    token = SecretBox(KEY).encrypt(SEED)
    with pytest.raises(SecretDecryptionError):
        SecretBox(KEY, label=b"another purpose").decrypt(token)


def test_decrypt_with_age_tells_a_fallback_keys_token_apart() -> None:
    old, new = "o" * 40, "n" * 40
    token = SecretBox(old).encrypt("JBSWY3DPEHPK3PXP", "user:7")
    rotated = SecretBox(new, fallback_keys=[old])
    assert rotated.decrypt_with_age(token, "user:7") == ("JBSWY3DPEHPK3PXP", True)
    fresh = rotated.encrypt("JBSWY3DPEHPK3PXP", "user:7")
    assert rotated.decrypt_with_age(fresh, "user:7") == ("JBSWY3DPEHPK3PXP", False)
