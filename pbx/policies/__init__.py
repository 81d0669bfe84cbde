"""Pure policies of the switchboard (no I/O): destination (toll-fraud) rules."""

from pbx.policies.destinations import (
    Category,
    DestinationClass,
    DestinationNotAllowed,
    DestinationPolicy,
    InvalidNumber,
    ReasonCode,
    Refusal,
    check_destination,
    classify,
    evaluate,
    parse_e164,
    parse_number,
)

__all__ = [
    "Category",
    "DestinationClass",
    "DestinationNotAllowed",
    "DestinationPolicy",
    "InvalidNumber",
    "ReasonCode",
    "Refusal",
    "check_destination",
    "classify",
    "evaluate",
    "parse_e164",
    "parse_number",
]
