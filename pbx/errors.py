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


class NotFound(PbxError):
    """The object does not exist *for this caller* (other tenants' objects included)."""

    code = "not_found"


class Conflict(PbxError):
    code = "conflict"


class PermissionDenied(PbxError):
    code = "forbidden"
