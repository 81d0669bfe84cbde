"""Domain errors. Each has a stable `code` the web layer and CLI map to a clear message;
`params` holds the values that message names (an extension, a country, a length), so the
message is put together in the reader's language, never parsed out of the English one."""

from __future__ import annotations

from collections.abc import Mapping


class PbxError(Exception):
    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params: dict[str, object] = dict(params or {})
        if code:
            self.code = code


class ValidationError(PbxError):
    """Bad input for one field; nothing was stored."""

    code = "invalid"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, code=code, params=params)
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


class Taken(ValidationError, Conflict):
    """A value that must be unique is already used (an e-mail, an extension): a field's
    error on a form, a conflict to whoever catches those."""


class PermissionDenied(PbxError):
    code = "forbidden"
