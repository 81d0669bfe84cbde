"""Domain errors reach the reader through their `code`, in the reader's language: the two
validation messages that used to reach the Swedish pages in English among them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, g
from sqlalchemy.orm import Session

from admin_web.views.site_common import REASONS, error_text
from pbx import identifiers
from pbx.errors import ValidationError
from pbx.incident.register import IncidentFields
from pbx.services.common.actor import SYSTEM
from pbx.services.library.slots import check_script_text
from pbx.services.people import users
from pbx.services.routing import forwarding, queues
from pbx.services.routing.targets import Target, validate_target
from pbx.services.tenants.settings import region_codes, set_allowed_countries
from tests.builders import make_tenant, make_user


def _text(app: Flask, exc: ValidationError, language: str) -> str:
    with app.test_request_context("/"):
        g.language = language
        return error_text(exc)


def refusal(check, *args: object, **kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        check(*args, **kwargs)
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


def _formerly_matched(s: Session) -> list[tuple[ValidationError, str]]:
    """Each error the site used to find by a regular expression over its English message,
    raised by the service that raises it, with the Swedish sentence it shows."""
    tenant = make_tenant(s)  # at home in Sweden
    anna = make_user(s, tenant, email="anna@regel.example", extension="101")
    no_extension = make_user(s, tenant, extension=None)
    queue = queues.create_queue(s, SYSTEM, tenant, name="Kö", message_slot_id=None, members=[])

    def add_user(**values: str) -> object:
        return users.create_user(s, SYSTEM, tenant, name="B", **values)  # type: ignore[arg-type]

    return [
        (refusal(forwarding.set_forwarding, s, SYSTEM, anna, kind="busy", destination="999"),
         "Det finns ingen anknytning 999 i företaget."),
        (refusal(queues.set_members, s, tenant, queue, [no_extension.id]),
         f"Användare {no_extension.id} har ingen anknytning här."),
        (refusal(validate_target, s, tenant, Target("queue", queue_id=queue.id + 1000), "to"),
         "Det målet finns inte i företaget."),
        (refusal(add_user, email="ANNA@regel.example"),
         "E-postadressen ANNA@regel.example används redan."),
        (refusal(add_user, email="b@regel.example", extension="101"),
         "Anknytning 101 används redan i företaget."),
        (refusal(identifiers.extension, "333"), "333 är röstbrevlådans servicenummer."),
        (refusal(identifiers.name, "x" * 201), "Högst 200 tecken."),
        (refusal(region_codes, "XX"), "XX är ingen landskod (t.ex. NO, FI, DE)."),
        (refusal(set_allowed_countries, s, SYSTEM, tenant, ["SE"]),
         "SE är hemlandet och alltid tillåtet."),
    ]  # fmt: skip


def test_formerly_matched_errors_show_their_swedish_text(app: Flask, uow) -> None:
    with uow() as s:
        cases = _formerly_matched(s)
        for exc, swedish in cases:
            assert exc.code in REASONS, exc
            assert _text(app, exc, "sv") == swedish
