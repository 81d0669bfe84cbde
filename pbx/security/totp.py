"""TOTP second factor (SECURITY.md items 6–8) on pyotp: SHA1, 6 digits, 30-second steps.

Those parameters are what every authenticator app understands, so they are fixed. `verify`
returns the *time step* it accepted; the caller stores it and thereby makes the code single
use. Storing must be one atomic statement, or two requests racing with the same code would
both pass:

    UPDATE user_totp SET last_step = :step
     WHERE user_id = :id AND (last_step IS NULL OR last_step < :step)

and only a rowcount of 1 means success (0: replayed, or another request won the race).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

import pyotp
import segno

_CODE = re.compile(r"[0-9]{6}")  # not \d: that also matches e.g. Arabic-Indic digits


class Totp:
    """Stateless TOTP operations; the secret and the last accepted step come from the caller."""

    DIGITS = 6
    INTERVAL = 30
    VALID_WINDOW = 1  # one step of clock drift either way
    ISSUER = "Växel"

    @staticmethod
    def new_secret() -> str:
        """A fresh base32 secret of 160 bits (32 characters) from the system CSPRNG."""
        return pyotp.random_base32()

    @classmethod
    def provisioning_uri(cls, secret: str, account_name: str, issuer: str = ISSUER) -> str:
        """The otpauth:// URI an authenticator app reads from the QR code."""
        return cls._otp(secret).provisioning_uri(name=account_name, issuer_name=issuer)

    @staticmethod
    def qr_svg(uri: str, title: str | None = None) -> str:
        """Inline SVG markup of the QR code, rendered here so the secret never leaves the server
        for a third-party QR service. Serve the page with Cache-Control: no-store."""
        qr = segno.make(uri, error="m", micro=False)
        markup: str = qr.svg_inline(scale=4, title=title)
        return markup

    @classmethod
    def time_step(cls, now: datetime | float) -> int:
        """The 30-second step `now` falls in; a datetime must carry its time zone."""
        if isinstance(now, datetime):
            if now.tzinfo is None:
                raise ValueError("naive datetime: pass an aware one (UTC)")
            now = now.timestamp()
        return int(now // cls.INTERVAL)

    @classmethod
    def code_at(cls, secret: str, now: datetime | float) -> str:
        """The code an authenticator app shows at `now` (for tests and enrolment checks)."""
        return cls._otp(secret).generate_otp(cls.time_step(now))

    @classmethod
    def verify(
        cls, secret: str, code: str, now: datetime | float, last_step: int | None
    ) -> int | None:
        """The accepted time step, or None.

        The code must be exactly six ASCII digits, match the current step or one step either
        side, and belong to a step later than `last_step` (the step accepted last time, None
        before the first). So the same code twice fails, and so does the previous step's code
        once the current one was used.
        """
        if not _CODE.fullmatch(code):
            return None
        otp = cls._otp(secret)
        current = cls.time_step(now)
        for step in range(current - cls.VALID_WINDOW, current + cls.VALID_WINDOW + 1):
            if last_step is not None and step <= last_step:
                continue
            if hmac.compare_digest(otp.generate_otp(step), code):
                return step
        return None

    @classmethod
    def _otp(cls, secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(secret, digits=cls.DIGITS, digest=hashlib.sha1, interval=cls.INTERVAL)
