"""Domain errors. Each has a stable `code` the web layer and CLI map to a clear message."""

from __future__ import annotations


class PbxError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationError(PbxError):
    """Bad input for one field; nothing was stored."""

    code = "invalid"

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DestinationRefused(ValidationError):
    """A number the destination rules refuse (SECURITY.md 21); `number` is its E.164 form, so
    the reader can be told the kind of number and its country."""

    def __init__(self, field: str, message: str, *, code: str, number: str) -> None:
        super().__init__(field, message, code=code)
        self.number = number


class NotFound(PbxError):
    """The object does not exist *for this caller* (other tenants' objects included)."""

    code = "not_found"


class Conflict(PbxError):
    code = "conflict"


class PermissionDenied(PbxError):
    code = "forbidden"
