"""Destination (toll-fraud) policy: classification by region and number type, and the
default-deny rules of SECURITY.md item 21."""

from __future__ import annotations

import pytest

from pbx.policies.destinations import (
    DestinationNotAllowed,
    DestinationPolicy,
    InvalidNumber,
    check_destination,
    classify,
    evaluate,
    parse_e164,
)

SE_ONLY = DestinationPolicy("SE", frozenset())
SE_WITH_NO = DestinationPolicy("SE", frozenset({"NO"}))
SE_WITH_US = DestinationPolicy("SE", frozenset({"US"}))


def refusal_code(number: str, policy: DestinationPolicy) -> str:
    with pytest.raises(DestinationNotAllowed) as caught:
        check_destination(number, policy)
    assert caught.value.message  # every refusal explains itself
    assert caught.value.code == caught.value.reason_code
    return caught.value.reason_code


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("+46701234567", "+46701234567"),
        ("+46 70-123 45 67", "+46701234567"),
        ("  +46 (8) 123 456 78 ", "+46812345678"),
        ("+4791234567", "+4791234567"),
    ],
)
def test_parse_e164_normalises(text: str, e164: str) -> None:
    assert parse_e164(text) == e164


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "required"),
        ("   ", "required"),
        ("0701234567", "start with +"),
        ("0046701234567", "start with +"),
        ("+46abc", "E.164"),
        ("+46 70 123 45 67 89 01 23", "E.164"),  # more than 15 digits
        ("+0701234567", "E.164"),
        ("++46701234567", "E.164"),
        ("+999123456789", "country code"),
        ("+4690020", "length"),
        ("+46 70 123\n4567", "E.164"),
    ],
)
def test_parse_e164_rejects_malformed_input_with_a_clear_message(text: str, hint: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_e164(text)
    assert hint in caught.value.message
    assert caught.value.code == "invalid_number"


def test_parse_e164_rejects_non_text() -> None:
    with pytest.raises(InvalidNumber):
        parse_e164(46701234567)  # type: ignore[arg-type]


def test_check_destination_reports_malformed_numbers_as_invalid_number() -> None:
    assert refusal_code("0701234567", SE_ONLY) == "invalid_number"
    assert refusal_code("+46 70 12", SE_ONLY) == "invalid_number"


# --- classification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "region", "category"),
    [
        ("+46812345678", "SE", "domestic_fixed"),
        ("+46701234567", "SE", "domestic_mobile"),
        ("+46200123456", "SE", "domestic_toll_free"),
        ("+46900123456", "SE", "premium"),
        ("+46939123456", "SE", "premium"),
        ("+46944123456", "SE", "premium"),
        # ranges the metadata does not call valid are still premium by the explicit table
        ("+46944012345", "SE", "premium"),
        ("+46939000000", "SE", "premium"),
        ("+46771123456", "SE", "shared_cost"),
        ("+46752345678", "SE", "personal"),
        ("+46750123456", "SE", "personal"),
        ("+46103330000", "SE", "uan"),
        ("+4791234567", "NO", "international"),
        ("+18765551234", "JM", "international"),  # +1 876 is Jamaica, not the USA
        ("+12684601234", "AG", "international"),  # Antigua and Barbuda
        ("+12025550123", "US", "international"),
        ("+35818123456", "AX", "international"),  # Åland, not Finland
        ("+882123456789", "001", "international_network"),
        ("+883123456789", "001", "international_network"),
        ("+881612345678", "001", "satellite"),
        ("+870773123456", "001", "satellite"),
        ("+447700900123", None, "unknown"),  # not a valid UK range: default deny
    ],
)
def test_classify_by_region_and_number_type(number: str, region: str | None, category: str) -> None:
    cls = classify(number)
    assert (cls.region, cls.category) == (region, category)
    assert cls.e164 == parse_e164(number)


def test_classify_reports_the_phonenumbers_type() -> None:
    assert classify("+46900123456").number_type == "PREMIUM_RATE"
    assert classify("+46701234567").number_type == "MOBILE"
    assert classify("+18765551234").number_type == "MOBILE"


def test_classify_is_relative_to_the_home_region() -> None:
    assert classify("+4791234567", home_region="NO").category == "domestic_mobile"
    assert classify("+46701234567", home_region="no").category == "international"


def test_classify_rejects_malformed_input() -> None:
    with pytest.raises(InvalidNumber):
        classify("070-123 45 67")


# --- the policy -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["+46812345678", "+46701234567", "+46 70 123 45 67", "+46200123456"]
)
def test_domestic_fixed_mobile_and_toll_free_are_allowed(number: str) -> None:
    check_destination(number, SE_ONLY)
    assert evaluate(number, SE_ONLY) is None


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+46900123456", "premium_rate"),  # 0900
        ("+46939123456", "premium_rate"),  # 0939
        ("+46944123456", "premium_rate"),  # 0944
        ("+46944012345", "premium_rate"),
        ("+46991123456", "premium_rate"),  # 099x
        ("+46771123456", "shared_cost"),  # 0771
        ("+46752345678", "personal_number"),  # 075x
        ("+46750123456", "personal_number"),
        ("+46103330000", "uan"),  # 010
        ("+882123456789", "international_network"),
        ("+883123456789", "international_network"),
        ("+881612345678", "international_network"),
        ("+19005551234", "premium_rate"),  # US 1-900, even with the US allowlisted
        ("+447700900123", "unknown_destination"),
    ],
)
def test_always_refused_classes_ignore_the_allowlist(number: str, code: str) -> None:
    everything = DestinationPolicy("SE", frozenset({"SE", "US", "GB", "001"}))
    assert refusal_code(number, everything) == code
    assert refusal_code(number, SE_ONLY) == code


def test_international_needs_the_country_on_the_allowlist() -> None:
    assert refusal_code("+4520123456", SE_WITH_NO) == "country_not_allowed"
    check_destination("+4791234567", SE_WITH_NO)  # Norway is allowlisted
    assert refusal_code("+4791234567", SE_ONLY) == "country_not_allowed"


def test_caribbean_plus_one_is_not_the_usa() -> None:
    check_destination("+12025550123", SE_WITH_US)
    assert refusal_code("+18765551234", SE_WITH_US) == "country_not_allowed"
    assert refusal_code("+12684601234", SE_WITH_US) == "country_not_allowed"
    refusal = evaluate("+18765551234", SE_WITH_US)
    assert refusal is not None and "JM" in refusal.message and "+1" in refusal.message


def test_refusal_carries_the_number_and_message() -> None:
    with pytest.raises(DestinationNotAllowed) as caught:
        check_destination("+46 900 123 456", SE_ONLY)
    assert caught.value.e164 == "+46 900 123 456"
    assert "premium" in str(caught.value)


def test_policy_regions_are_case_insensitive_for_home() -> None:
    check_destination("+46701234567", DestinationPolicy("se", frozenset()))
