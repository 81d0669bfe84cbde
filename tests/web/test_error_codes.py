"""Domain errors reach the reader through their `code`, in the reader's language: the two
validation messages that used to reach the Swedish pages in English among them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, g

from admin_web.views.site_common import REASONS, error_text
from pbx.errors import ValidationError
from pbx.incident.register import IncidentFields
from pbx.services.library.slots import check_script_text


def _text(app: Flask, exc: ValidationError, language: str) -> str:
    with app.test_request_context("/"):
        g.language = language
        return error_text(exc)


def refusal(check, *args: object) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        check(*args)
    return refused.value


@pytest.mark.parametrize(
    ("make", "swedish", "english"),
    [
        (
            lambda: refusal(check_script_text, "x" * 2001),
            "Manustexten får vara högst 2000 tecken.",
            "The script text can be at most 2000 characters.",
        ),
        (
            lambda: refusal(IncidentFields(title=" ", discovered_at=datetime.now(UTC)).check),
            "Ge incidenten en rubrik.",
            "Give the incident a title.",
        ),
    ],
)
def test_error_codes_are_translated(app: Flask, make, swedish: str, english: str) -> None:
    exc = make()
    assert exc.code in REASONS
    assert _text(app, exc, "sv") == swedish
    assert _text(app, exc, "en") == english


def test_every_coded_reason_has_a_swedish_text(app: Flask) -> None:
    for code, msgid in REASONS.items():
        assert _text(app, ValidationError("f", "", code=code), "sv") != msgid, code
