"""`parse_number`: the number as people type it, the national form of the home country
included (issue 16 item 10); a leading 0 is national, extensions never start with 0."""

from __future__ import annotations

import pytest

from pbx.policies.destinations import InvalidNumber, parse_number


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0701234567", "+46701234567"),
        ("070-123 45 67", "+46701234567"),
        ("08-123 456 78", "+46812345678"),
        ("0046701234567", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("+1 876 555 1234", "+18765551234"),
    ],
)
def test_national_and_international_forms(typed: str, e164: str) -> None:
    assert parse_number(typed) == e164


def test_the_home_country_decides_the_national_form() -> None:
    assert parse_number("040 123 45 67", "SE") == "+46401234567"
    assert parse_number("09 123 4567", "FI") == "+35891234567"


@pytest.mark.parametrize("typed", ["0", "07012", "", "abc", "701234567"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidNumber):
        parse_number(typed)
