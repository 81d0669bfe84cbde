"""A refused number explained to the reader: the kind of number and its country, in the
reader's language. Swedish examples (0900, 077, 075, 010) are given for Swedish numbers only:
a Norwegian shared-cost number is not "077" (issue 18)."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from admin_web.i18n import current_language, gettext
from pbx.errors import DestinationRefused
from pbx.policies.destinations import InvalidNumber, classify

# reason code → (sentence, sentence for a Swedish number with the Swedish examples)
SENTENCES: dict[str, tuple[str, str]] = {
    "premium_rate": (
        "%(number)s is a premium-rate number in %(country)s. Premium-rate numbers are never "
        "allowed.",
        "%(number)s is a premium-rate number in %(country)s (0900, 0939, 0944). Premium-rate "
        "numbers are never allowed.",
    ),
    "shared_cost": (
        "%(number)s is a shared-cost number in %(country)s. Shared-cost numbers are never "
        "allowed.",
        "%(number)s is a shared-cost number in %(country)s (077). Shared-cost numbers are "
        "never allowed.",
    ),
    "personal_number": (
        "%(number)s is a personal number in %(country)s. Personal numbers are never allowed.",
        "%(number)s is a personal number in %(country)s (075). Personal numbers are never "
        "allowed.",
    ),
    "uan": (
        "%(number)s is a universal access (UAN) number in %(country)s. Such numbers are never "
        "allowed.",
        "%(number)s is a location-independent number in %(country)s (010). Such numbers are "
        "never allowed.",
    ),
    "voip": (
        "%(number)s is a VoIP-range number in %(country)s. Such numbers are never allowed.",
    )
    * 2,
    "international_network": (
        "%(number)s belongs to a satellite or international network (%(country)s). Such "
        "numbers are never allowed.",
    )
    * 2,
    "unknown_destination": (
        "%(number)s (%(country)s) is not in any range that calls may go to.",
    )
    * 2,
    "country_not_allowed": (
        "%(number)s is a number in %(country)s, which is not allowed for this company. An "
        "administrator can add it under Allowed countries.",
    )
    * 2,
    "not_a_mobile": (
        "%(number)s is not a mobile number (%(country)s). Give the user's own mobile.",
    )
    * 2,
    "foreign_mobile_needs_reason": (
        "%(number)s is a mobile number in %(country)s. Say why the user's own mobile is a "
        "foreign one.",
    )
    * 2,
}
NO_COUNTRY = "no country: an international service"


def refusal_text(exc: DestinationRefused) -> str | None:
    """The sentence for a refused number, or None when the code has none here."""
    sentences = SENTENCES.get(exc.code)
    if sentences is None:
        return None
    try:
        region = classify(exc.number).region
    except InvalidNumber:
        return None
    sentence = sentences[1] if region == "SE" else sentences[0]
    return gettext(sentence, number=exc.number, country=country_name(region))


def country_name(region: str | None) -> str:
    """The country's name in the reader's language ("Norge", "Norway")."""
    if not region or region == "001":
        return gettext(NO_COUNTRY)
    try:
        names = Locale.parse(current_language()).territories
    except (UnknownLocaleError, ValueError):
        names = {}
    return str(names.get(region, region))
