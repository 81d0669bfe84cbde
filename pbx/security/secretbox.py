"""Encryption at rest for small secrets such as TOTP seeds (SECURITY.md item 6).

AES-256-GCM with a key derived from the application's secret key by HKDF-SHA256 and a fixed
label, so the secret key itself is never used as an AES key and other uses of it (session
signing) get unrelated keys. Tokens are text: "v1." + base64url(nonce ‖ ciphertext ‖ tag).
The version prefix lets a later format coexist with stored v1 tokens.

Pass `associated_data` (e.g. f"user:{user_id}") to bind a ciphertext to its row: a token copied
into another user's row then fails to decrypt instead of handing over the first user's secret.
After a secret-key rotation, give the old keys as `fallback_keys` (as Flask's
SECRET_KEY_FALLBACKS) and re-encrypt what `decrypt` still reads with one of them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
DEFAULT_LABEL = b"vaxel secretbox v1: totp secrets at rest"
_NONCE_BYTES = 12  # GCM's standard nonce; random nonces are safe far beyond our volume


class SecretDecryptionError(Exception):
    """The token was altered, is malformed, or was made with another key or binding."""


class SecretBox:
    """Encrypts and decrypts short text secrets with keys derived from the secret key."""

    def __init__(
        self,
        secret_key: str | bytes,
        *,
        fallback_keys: Sequence[str | bytes] = (),
        label: bytes = DEFAULT_LABEL,
    ) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._ciphers = [_derive(k, label) for k in (secret_key, *fallback_keys)]

    def encrypt(self, plaintext: str, associated_data: str = "") -> str:
        """A fresh token for `plaintext` (a new random nonce each time)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[0].encrypt(nonce, plaintext.encode("utf-8"), _ad(associated_data))
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, associated_data: str = "") -> str:
        """The plaintext; raises SecretDecryptionError on any tampering or the wrong key."""
        return self.decrypt_with_age(token, associated_data)[0]

    def decrypt_with_age(self, token: str, associated_data: str = "") -> tuple[str, bool]:
        """The plaintext and whether an old (fallback) key made the token: then the caller
        stores `encrypt(plaintext)` again, so the old key can be dropped later."""
        version, dot, body = token.partition(".")
        if version != VERSION or not dot:
            raise SecretDecryptionError("unknown token format")
        try:
            blob = base64.b64decode(body.encode("ascii"), altchars=b"-_", validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise SecretDecryptionError("token is not valid base64") from None
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        if len(nonce) != _NONCE_BYTES:
            raise SecretDecryptionError("token is truncated")
        for index, cipher in enumerate(self._ciphers):
            try:
                plain = cipher.decrypt(nonce, sealed, _ad(associated_data)).decode("utf-8")
            except InvalidTag:
                continue
            return plain, index > 0
        raise SecretDecryptionError("token was altered or made with another key")


def _derive(secret_key: str | bytes, label: bytes) -> AESGCM:
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return AESGCM(hkdf.derive(material))


def _ad(associated_data: str) -> bytes:
    return associated_data.encode("utf-8")
