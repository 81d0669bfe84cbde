"""The letter to each affected caller (the first notice, with its questions and answers),
rendered from `templates/affected_caller_sv.txt` and queued in the outbox.

The template has no place for a company: only the caller's own number, the period and the
operator's contact details go in, so a letter cannot say which company was called (the
notice's "Vilket nummer har jag ringt?" answers why). Callers are reached through an SMS
gateway that takes e-mail (`<number>@<gateway domain>`), so the same outbox and SMTP sender
serve letters and account notices alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from string import Template

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pbx.incident.callers import AffectedCaller
from pbx.policies.fraud_rules import ZONE
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import OutboxMessage, utcnow

TEMPLATE = Path(__file__).parent / "templates" / "affected_caller_sv.txt"
KIND = "affected_caller_letter"
MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")  # fmt: skip


@dataclass(frozen=True)
class LetterSettings:
    operator: str = "Växel"
    contact_phone: str = "+46 (0)8 000 00 00"
    contact_hours: str = "mån–fre 13–16"
    contact_email: str = "kontakt@vaxel.invalid"
    gateway_domain: str = "sms.vaxel.invalid"

    def address(self, number: str) -> str:
        return f"{number}@{self.gateway_domain}"


def period_text(since: datetime, until: datetime) -> str:
    """'2–7 juli 2026' for a window of Swedish days (until is exclusive)."""
    first = since.astimezone(ZONE).date()
    last = max(first, (until - timedelta(microseconds=1)).astimezone(ZONE).date())
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"
    return f"{_day(first)} – {_day(last)}"


def _day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def subject(period: str, settings: LetterSettings) -> str:
    return f"Säkerhetsinformation från {settings.operator}: dataintrång {period}"


def render(number: str, period: str, settings: LetterSettings) -> str:
    template = Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        number=number,
        period=period,
        operator=settings.operator,
        contact_phone=settings.contact_phone,
        contact_hours=settings.contact_hours,
        contact_email=settings.contact_email,
    )


@dataclass(frozen=True)
class LetterPreview:
    """The letter as the first caller will read it, and how many letters would go out."""

    subject: str
    body: str
    to_send: int  # callers not yet sent this letter
    already: int  # callers sent it before (same period): not written to twice


def preview(
    session: Session,
    callers: Sequence[AffectedCaller],
    since: datetime,
    until: datetime,
    settings: LetterSettings = LetterSettings(),
) -> LetterPreview:
    period = period_text(since, until)
    title = subject(period, settings)
    done = _already_sent(session, title)
    fresh = [c for c in callers if settings.address(c.number) not in done]
    sample = fresh[0].number if fresh else (callers[0].number if callers else "+46701234567")
    return LetterPreview(
        title, render(sample, period, settings), len(fresh), len(callers) - len(fresh)
    )


def _already_sent(session: Session, title: str) -> set[str]:
    stmt = select(OutboxMessage.to_address).where(
        OutboxMessage.kind == KIND, OutboxMessage.subject == title
    )
    return set(session.scalars(stmt))


def queue_letters(
    session: Session,
    actor: Actor,
    callers: Sequence[AffectedCaller],
    since: datetime,
    until: datetime,
    settings: LetterSettings = LetterSettings(),
) -> int:
    """One letter per caller into the outbox; a caller already sent this letter (same
    period) is not written to twice. Returns how many were queued."""
    period = period_text(since, until)
    title = subject(period, settings)
    done = _already_sent(session, title)
    now = utcnow()
    rows = [
        {"tenant_id": None, "user_id": None, "to_address": settings.address(c.number),
         "kind": KIND, "subject": title, "body": render(c.number, period, settings),
         "created_at": now}
        for c in callers
        if settings.address(c.number) not in done
    ]  # fmt: skip
    for start in range(0, len(rows), 1000):
        session.execute(insert(OutboxMessage), rows[start : start + 1000])
    audit.record(
        session, actor, "incident.letters_queued",
        new={"period": period, "queued": len(rows), "already": len(callers) - len(rows)},
    )  # fmt: skip
    return len(rows)
