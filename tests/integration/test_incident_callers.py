"""Affected callers on a crafted call log (both databases): exactly the expected numbers; the
CSV and the letters never name a company or any of its numbers; letters go out by SMTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.incident import callers, letters, mailer
from pbx.services.calllog.entries import write_entries
from pbx.services.common.actor import SYSTEM
from pbx.services.routing import numbers
from pbx.services.routing.targets import Target
from storage.models import OutboxMessage, Tenant, User
from tests.builders import make_tenant, make_user
from tests.smtp_sink import smtp_sink

SINCE = datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # 2 July 00:00 in Stockholm
UNTIL = datetime(2026, 7, 7, 22, 0, tzinfo=UTC)  # 8 July 00:00: the window is 2–7 July
X1, X2, X3, X4, X5 = "+46701110001", "+46701110002", "+46701110003", "+46701110004", "+4781110005"


@dataclass
class Crafted:
    a: Tenant
    b: Tenant
    c: Tenant
    staff: list[User]
    company_numbers: list[str]


def call(tenant: Tenant, caller: str, callee: str, at: datetime, **extra: object) -> dict:  # type: ignore[type-arg]
    return {
        "call_id": str(uuid.uuid4()),
        "leg": 1,
        "tenant_id": tenant.id,
        "user_id": None,
        "caller": caller,
        "callee": callee,
        "direction": "inbound",
        "started_at": at,
        "answered_at": at,
        "ended_at": at + timedelta(minutes=2),
        "disposition": "answered",
    } | extra


@pytest.fixture
def crafted(session: Session) -> Crafted:
    a, b, c = make_tenant(session), make_tenant(session), make_tenant(session)
    staff = [make_user(session, t) for t in (a, b, c)]
    nums = ["+46852110001", "+46852110002", "+46852110003"]
    for tenant, number, user in zip((a, b, c), nums, staff, strict=True):
        numbers.add_number(session, SYSTEM, tenant, number, Target("user", user_id=user.id))
    day = lambda d, h=9: datetime(2026, 7, d, h, tzinfo=UTC)  # noqa: E731
    rows = [
        call(a, X1, nums[0], day(2)),
        call(a, X1, nums[0], day(5, 14)),  # twice to A
        call(b, X2, nums[1], day(7, 20)),  # B, last evening of the window
        call(c, X3, nums[2], day(3)),  # only company C, which was not affected
        call(a, X4, nums[0], datetime(2026, 7, 1, 21, 59, tzinfo=UTC)),  # just before
        call(a, X5, nums[0], UNTIL),  # just after
        call(a, X1, nums[0], day(1)),  # X1 before the window: not counted
        call(a, staff[0].extension or "", "+46705550000", day(3), direction="outbound"),
        call(a, nums[0], "+46705550001", day(3), direction="forwarded", leg=2),
        call(a, staff[0].mobile or "", nums[0], day(4)),  # staff's own mobile
        call(a, nums[1], nums[0], day(4)),  # company B calling company A
        call(a, "anonymous", nums[0], day(4)),  # withheld
    ]
    write_entries(session, rows)
    return Crafted(a, b, c, staff, nums)


def test_exactly_the_outside_callers_of_the_affected_companies(
    session: Session, crafted: Crafted
) -> None:
    found = callers.affected_callers(session, [crafted.a.id, crafted.b.id], SINCE, UNTIL)
    assert [(f.number, f.calls) for f in found] == [(X1, 2), (X2, 1)]
    assert found[0].first == datetime(2026, 7, 2, 9, tzinfo=UTC)
    assert found[0].last == datetime(2026, 7, 5, 14, tzinfo=UTC)


def secrets_of(crafted: Crafted) -> list[str]:
    """What must never appear: every company's name, org number, short name and numbers."""
    out = list(crafted.company_numbers)
    for tenant in (crafted.a, crafted.b, crafted.c):
        out += [tenant.name, tenant.org_number, tenant.slug]
    return out + [u.mobile or "" for u in crafted.staff] + [u.name for u in crafted.staff]


def test_the_csv_has_number_count_first_and_last_and_no_company(
    session: Session, crafted: Crafted
) -> None:
    found, text = callers.export(session, SYSTEM, [crafted.a.id, crafted.b.id], SINCE, UNTIL)
    assert text.splitlines() == [
        "number,calls,first_call,last_call",
        f"{X1},2,2026-07-02 11:00,2026-07-05 16:00",
        f"{X2},1,2026-07-07 22:00,2026-07-07 22:00",
    ]
    for secret in secrets_of(crafted):
        assert secret not in text


def test_letters_are_the_notice_per_caller_without_any_company(
    session: Session, crafted: Crafted
) -> None:
    found = callers.affected_callers(session, [crafted.a.id, crafted.b.id], SINCE, UNTIL)
    assert letters.queue_letters(session, SYSTEM, found, SINCE, UNTIL) == 2
    assert letters.queue_letters(session, SYSTEM, found, SINCE, UNTIL) == 0  # not twice
    queued = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == letters.KIND)))
    assert sorted(m.to_address for m in queued) == [
        f"{X1}@sms.vaxel.invalid",
        f"{X2}@sms.vaxel.invalid",
    ]
    for message in queued:
        assert "2–7 juli 2026" in message.subject + message.body
        assert "Vilket nummer har jag ringt?" in message.body
        assert "Behöver jag göra något?" in message.body
        assert message.to_address.split("@")[0] in message.body
        for secret in secrets_of(crafted):
            assert secret not in message.body and secret not in message.subject


def test_letters_are_sent_through_a_local_smtp_server(session: Session, crafted: Crafted) -> None:
    found = callers.affected_callers(session, [crafted.a.id, crafted.b.id], SINCE, UNTIL)
    refused = callers.AffectedCaller("+46700000000", 1, SINCE, SINCE)
    settings = letters.LetterSettings(gateway_domain="sms.test")
    letters.queue_letters(session, SYSTEM, found, SINCE, UNTIL, settings)
    letters.queue_letters(
        session,
        SYSTEM,
        [refused],
        SINCE,
        UNTIL,
        letters.LetterSettings(gateway_domain="refuse.test"),
    )
    with smtp_sink() as (url, mailbox):
        report = mailer.send_outbox(
            session, f"{url}?from=incident@vaxel.test", kinds=[letters.KIND]
        )
        again = mailer.send_outbox(session, url, kinds=[letters.KIND])
    assert report.sent == 2 and report.refused == ["+46700000000@refuse.test"]
    assert again.sent == 0 and again.refused == ["+46700000000@refuse.test"]
    got = sorted(mailbox.messages, key=lambda m: m.recipients)
    assert [m.recipients for m in got] == [[f"{X1}@sms.test"], [f"{X2}@sms.test"]]
    first = got[0].message()
    assert got[0].sender == "incident@vaxel.test" and "dataintrång" in str(first["Subject"])
    assert X1 in first.get_content() and "Vanliga frågor och svar" in first.get_content()
    sent = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_not(None)))
    assert len(list(sent)) == 2


def test_a_bad_smtp_url_is_refused() -> None:
    with pytest.raises(Exception, match="smtp://"):
        mailer.parse_url("http://example.com")
    target = mailer.parse_url("smtps://u%40x:p@mail.example:465?from=a@b")
    assert (target.ssl, target.username, target.password, target.sender) == (
        True,
        "u@x",
        "p",
        "a@b",
    )


def test_the_period_is_written_the_swedish_way() -> None:
    assert letters.period_text(SINCE, UNTIL) == "2–7 juli 2026"
    june = datetime(2026, 6, 29, 22, tzinfo=UTC)
    assert letters.period_text(june, UNTIL) == "30 juni 2026 – 7 juli 2026"
