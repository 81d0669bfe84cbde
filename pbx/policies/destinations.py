"""Destination (toll-fraud) policy for forwarded and outbound legs (SECURITY.md item 21).

Default deny by destination *class*, not by country code: `phonenumbers` gives the region
(+1 876 is Jamaica, not the USA) and the number type (premium rate, shared cost, ...).
Domestic fixed, mobile and toll-free numbers are allowed; other countries' fixed, mobile and
toll-free numbers only when the tenant allowlists the country; premium-rate, shared-cost,
personal/UAN, VoIP, pager, unknown ranges and the non-geographic "+8xx/+9xx" networks
(satellite +870/+881, international networks +882/+883, ...) are always refused.

Pure: no I/O and no clock. Classification is memoised because `phonenumbers` costs ~30 µs a
number and the engine checks every leg at call time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

Category = Literal[
    "domestic_fixed",
    "domestic_mobile",
    "domestic_toll_free",
    "international",
    "premium",
    "shared_cost",
    "personal",
    "uan",
    "voip",
    "satellite",
    "international_network",
    "unknown",
]

ReasonCode = Literal[
    "invalid_number",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "uan",
    "voip",
    "international_network",
    "country_not_allowed",
    "unknown_destination",
    # set by the engine's fraud guard (velocity and cost caps, SECURITY.md item 22)
    "forwarding_suspended",
    "cost_cap",
    # a user's own mobile number (`check_own_mobile`)
    "not_a_mobile",
    "foreign_mobile_needs_reason",
]


class InvalidNumber(ValueError):
    """Text that is not a dialable E.164 number (`+` country code, subscriber number)."""

    code = "invalid_number"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DestinationNotAllowed(Exception):
    """A leg to this destination is refused by the tenant's destination policy."""

    def __init__(self, reason_code: ReasonCode, message: str, e164: str = "") -> None:
        super().__init__(message)
        self.reason_code: ReasonCode = reason_code
        self.code: str = reason_code
        self.message = message
        self.e164 = e164


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """One tenant's destination policy. Region codes are ISO 3166-1 alpha-2 ("SE", "NO")."""

    home_region: str = "SE"
    allowed_countries: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DestinationClass:
    e164: str
    region: str | None  # "SE", "JM", "001" for non-geographic networks, None if unknown
    number_type: str  # phonenumbers' PhoneNumberType name, e.g. "MOBILE", "PREMIUM_RATE"
    category: Category


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a destination is refused: a stable code and a message for people."""

    reason_code: ReasonCode
    message: str


# Swedish national ranges refused whatever the metadata says (PTS numbering plan). The
# library's patterns only mark *valid* lengths/sub-ranges (e.g. 0944 0xxxx is not "valid" to
# it), but the networks still route those prefixes, so we match on the prefix alone.
_SE_PREFIXES: Final[tuple[tuple[str, Category], ...]] = (
    ("900", "premium"),  # 0900: premium-rate services (betalteletjänster)
    ("939", "premium"),  # 0939: premium-rate services
    ("944", "premium"),  # 0944: premium-rate services
    ("99", "premium"),  # 099x: premium-rate (older range)
    ("77", "shared_cost"),  # 077x: shared-cost numbers (delad kostnad)
    ("75", "personal"),  # 075x: personal numbers (personliga nummer)
    ("10", "uan"),  # 010: location-independent national numbers (not geographic)
)

# Non-geographic country codes (region "001"). All are refused; the category only makes the
# message precise. +870 Inmarsat and +881 GMSS are satellite, +882/+883 international networks.
_NONGEO_CATEGORY: Final[dict[int, Category]] = {
    870: "satellite",
    881: "satellite",
    882: "international_network",
    883: "international_network",
    800: "international_network",
    808: "shared_cost",
    878: "personal",
    888: "international_network",
    979: "premium",
}

_TYPE_CATEGORY: Final[dict[int, Category]] = {
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOIP: "voip",
}

_DOMESTIC: Final[dict[int, Category]] = {
    PhoneNumberType.FIXED_LINE: "domestic_fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "domestic_fixed",
    PhoneNumberType.MOBILE: "domestic_mobile",
    PhoneNumberType.TOLL_FREE: "domestic_toll_free",
}

_E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")
_SEPARATORS = re.compile(r"[ \-().]")


def parse_e164(text: str) -> str:
    """Normalise `text` ("+46 70-123 45 67") to E.164 ("+46701234567") or raise InvalidNumber."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidNumber("A phone number is required, in E.164 format such as +46701234567.")
    compact = _SEPARATORS.sub("", text.strip())
    if not compact.startswith("+"):
        raise InvalidNumber(
            f"{text!r} is not in E.164 format: start with + and the country code, "
            "for example +46701234567."
        )
    if not _E164_SHAPE.fullmatch(compact):
        raise InvalidNumber(
            f"{text!r} is not a valid E.164 number: + followed by 7 to 15 digits, the first not 0."
        )
    return _normalise(compact)


def parse_number(text: str, home_region: str = "SE") -> str:
    """A number as people type it, in E.164: "+46 70-123 45 67", or the national form of the
    home country ("070-123 45 67" → "+46701234567") and its international prefix
    ("0046701234567"). A leading 0 is national: extensions never start with 0."""
    compact = _SEPARATORS.sub("", text.strip()) if isinstance(text, str) else ""
    if not (compact.startswith("0") and compact.isdigit()):
        return parse_e164(text)
    try:
        number = phonenumbers.parse(compact, home_region.upper())
    except NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise InvalidNumber(
            f"{text!r} is not a whole national number: write it as 0701234567 or +46701234567."
        )
    return parse_e164(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=8192)
def _normalise(compact: str) -> str:
    try:
        number = phonenumbers.parse(compact, None)
    except NumberParseException:
        raise InvalidNumber(f"{compact!r} does not start with a known country code.") from None
    if phonenumbers.region_code_for_country_code(number.country_code or 0) == "ZZ":
        raise InvalidNumber(f"{compact!r}: +{number.country_code} is not a country code.")
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber(f"{compact!r} has the wrong length for +{number.country_code}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def classify(e164: str, home_region: str = "SE") -> DestinationClass:
    """Classify a number by region and number type. Raises InvalidNumber for bad input."""
    return _classify(parse_e164(e164), home_region.upper())


@lru_cache(maxsize=8192)
def _classify(e164: str, home_region: str) -> DestinationClass:
    number = phonenumbers.parse(e164, None)
    region = phonenumbers.region_code_for_number(number)
    number_type = phonenumbers.number_type(number)
    type_name = _type_name(number_type)
    if number.country_code in _NONGEO_CATEGORY:
        category = _NONGEO_CATEGORY[number.country_code]
        return DestinationClass(e164, "001", type_name, category)
    if number.country_code == 46:
        region = region or "SE"
        national = str(number.national_number)
        for prefix, table_category in _SE_PREFIXES:
            if national.startswith(prefix):
                return DestinationClass(e164, region, type_name, table_category)
    return DestinationClass(e164, region, type_name, _category(region, number_type, home_region))


def _category(region: str | None, number_type: int, home_region: str) -> Category:
    if number_type in _TYPE_CATEGORY:
        return _TYPE_CATEGORY[number_type]
    if region is None or number_type not in _DOMESTIC:
        return "unknown"  # invalid for the metadata, pagers, ...: default deny
    if region == home_region:
        return _DOMESTIC[number_type]
    return "international"


def _type_name(number_type: int) -> str:
    for name, value in vars(PhoneNumberType).items():
        if name.isupper() and value == number_type:
            return name
    return "UNKNOWN"


_ALWAYS_REFUSED: Final[dict[Category, tuple[ReasonCode, str]]] = {
    "premium": ("premium_rate", "premium-rate numbers are never allowed"),
    "shared_cost": ("shared_cost", "shared-cost numbers are never allowed"),
    "personal": ("personal_number", "personal numbers are never allowed"),
    "uan": ("uan", "universal access (UAN) numbers are never allowed"),
    "voip": ("voip", "VoIP-range numbers are never allowed"),
    "satellite": ("international_network", "satellite networks are never allowed"),
    "international_network": (
        "international_network",
        "international networks (+88x) are never allowed",
    ),
    "unknown": ("unknown_destination", "the number is not in any known allowed range"),
}


def evaluate(e164: str, policy: DestinationPolicy) -> Refusal | None:
    """Return why a leg to `e164` is refused under `policy`, or None if it is allowed."""
    try:
        number = parse_e164(e164)
    except InvalidNumber as exc:
        return Refusal("invalid_number", exc.message)
    return _evaluate(number, policy.home_region.upper(), policy.allowed_countries)


@lru_cache(maxsize=8192)
def _evaluate(e164: str, home_region: str, allowed: frozenset[str]) -> Refusal | None:
    cls = _classify(e164, home_region)
    if cls.category in _ALWAYS_REFUSED:
        code, why = _ALWAYS_REFUSED[cls.category]
        return Refusal(code, f"Forwarding to {e164} refused: {why}.")
    if cls.category == "international" and cls.region not in allowed:
        # +1 is shared by the USA, Canada and many Caribbean countries: say so.
        hint = " (+1 is not only the USA and Canada)" if e164.startswith("+1") else ""
        return Refusal(
            "country_not_allowed",
            f"Forwarding to {e164} refused: region {cls.region} is not on the tenant's "
            f"allowed country list{hint}.",
        )
    return None


def check_destination(e164: str, policy: DestinationPolicy) -> None:
    """Raise DestinationNotAllowed unless `policy` allows a forwarded/outbound leg to `e164`."""
    refusal = evaluate(e164, policy)
    if refusal is not None:
        raise DestinationNotAllowed(refusal.reason_code, refusal.message, e164)


_MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def check_own_mobile(e164: str, home_region: str = "SE", reason: str = "") -> DestinationClass:
    """A user's own mobile (333 knows them by it, the callback rings it): a domestic mobile,
    or another country's mobile when `reason` says why; never a premium-rate, shared-cost,
    personal, satellite or other always-refused range, nor a fixed line. Returns the
    classification; raises InvalidNumber or DestinationNotAllowed."""
    cls = classify(e164, home_region)
    number = cls.e164
    if cls.category in _ALWAYS_REFUSED:
        code, why = _ALWAYS_REFUSED[cls.category]
        raise DestinationNotAllowed(code, f"{number} refused as a mobile number: {why}.", number)
    if cls.category == "domestic_mobile":
        return cls
    mobile = phonenumbers.number_type(phonenumbers.parse(number, None)) in _MOBILE_TYPES
    if cls.category == "international" and mobile:
        if reason.strip():
            return cls
        raise DestinationNotAllowed(
            "foreign_mobile_needs_reason",
            f"{number} is a mobile number in {cls.region}: say why the user's own phone is "
            "a foreign one.",
            number,
        )
    raise DestinationNotAllowed(
        "not_a_mobile", f"{number} is not a mobile number: give the user's own mobile.", number
    )
