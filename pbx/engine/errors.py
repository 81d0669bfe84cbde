"""Errors of the call engine. Each has a stable `code` and a `message` for people.

The engine itself never raises while a call is running: these are for bad *input* handed to
it (a malformed DTMF string, a dialplan that fails validation, a script for an unknown number).
"""

from __future__ import annotations


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidDtmf(EngineError, ValueError):
    """A DTMF digit outside 0-9, *, #."""

    code = "invalid_dtmf"


class UnknownNumber(EngineError, LookupError):
    """The dialled number is not one of the tenant's numbers, extensions or service numbers."""

    code = "unknown_number"


class InvalidDialplan(EngineError):
    """A snapshot that fails validation; `problems` lists every finding."""

    code = "invalid_dialplan"

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("invalid dialplan: " + "; ".join(problems))
        self.problems = problems
