"""CSV cells a spreadsheet would run as a formula are quoted; data stays as it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pbx.policies.spreadsheet import cell, row


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("https://evil.invalid")', "+SUM(1)", "-1+1", "@cmd", "\tx", "\r=1"]
)
def test_a_formula_gets_a_leading_quote(value: str) -> None:
    assert cell(value) == "'" + value


def test_data_stays_as_it_is() -> None:
    assert row(["+46852001000", 0, None, "Kundtjänst", "101"]) == [
        "+46852001000", "0", "", "Kundtjänst", "101",
    ]  # fmt: skip
    assert cell(datetime(2026, 12, 7, 23, 5, tzinfo=UTC)) == "2026-12-07T23:05:00+00:00"
    assert cell("+4685") == "'+4685"  # too short for E.164: not a number, so quoted
