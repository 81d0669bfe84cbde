"""The breach demo's steps, each `(context, session, figures) -> None` in its own unit of
work, through the same services the site and the CLI use."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_web.incident_demos.breach_context import (
    ATTACKER_IP,
    FRAUD_NUMBER,
    PROBE_NUMBER,
    VICTIM_NUMBER,
    BreachContext,
    window_start,
)
from admin_web.incident_demos.runner import check
from fixtures.demo_logins import demo_password
from pbx.errors import ValidationError
from pbx.incident import callers, forwarding_changes, letters, mailer, register, response
from pbx.incident.register import IncidentFields
from pbx.incident.scan import scan
from pbx.policies.fraud_rules import ZONE
from pbx.services.accounts import core as accounts
from pbx.services.accounts import login as accounts_login
from pbx.services.accounts.core import PasswordRejected
from pbx.services.audit.log import verify_chain
from pbx.services.calls import simulated as calls
from pbx.services.common.scope import tenant_by_slug
from pbx.services.routing import forwarding, forwarding_review
from storage.models import AuditEvent, Tenant, User

Figures = dict[str, Any]
GUESSES = (
    "sommar2026",
    "Sommar2026!",
    "password1",
    "qwerty123",
    "bergstrom",
    "vaxel2026",
    "Hej123456",
    "123456789",
    "lösenord1",
    "Stockholm1",
    "fotboll10",
    "Erik1985",
)


def weak_passwords(ctx: BreachContext, s: Session, figures: Figures) -> None:
    victim = ctx.victim(s, 0)
    refused = 0
    for weak in ("sommar2026", "Bergstrom2026!", "password123456789", "erik.lindqvist1985"):
        try:
            accounts.check_new_password(s, victim, weak)
        except PasswordRejected:
            refused += 1
    figures["weak passwords tried"], figures["refused"] = 4, refused
    check(refused == 4, "a weak password was accepted")


def takeover(ctx: BreachContext, s: Session, figures: Figures) -> None:
    """Each victim's own (strong) password is set through their setup link; the attacker
    guesses, is throttled, then signs in with the stolen password."""
    failures = throttled = signed_in = 0
    for index in (0, 1):
        victim = ctx.victim(s, index)
        password = demo_password()
        link = accounts.issue_link(s, ctx.config, ctx.operator, victim, "setup")
        accounts.complete_link(s, ctx.config, link.rsplit("/", 1)[1], password)
        ctx.passwords[victim.email] = password
        at = ctx.now - timedelta(hours=3)
        for guess in GUESSES:  # a guessing script, one try a second
            wait = ctx.config.throttle.delay_after(victim.failed_logins)
            if wait > timedelta(seconds=1):
                throttled += _attempt(s, ctx, victim, guess, at + timedelta(seconds=1))
            at += max(wait, timedelta(seconds=1))
            failures += _attempt(s, ctx, victim, guess, at)
        when = ctx.now - timedelta(minutes=20)
        step = accounts_login.check_password(
            s, ctx.config, victim.email, password, ATTACKER_IP, when
        )
        accounts_login.record_login(s, step.user, ATTACKER_IP, "password", when)
        signed_in += 1
    figures.update(
        {
            "wrong guesses": failures,
            "refused as too fast": throttled,
            "accounts taken over": signed_in,
        }
    )
    check(signed_in == 2, "the stolen passwords did not sign in")


def _attempt(s: Session, ctx: BreachContext, victim: User, guess: str, at: datetime) -> int:
    """One login attempt from the attacker; 1 when it was refused."""
    try:
        accounts_login.check_password(s, ctx.config, victim.email, guess, ATTACKER_IP, at)
    except accounts_login.LoginFailed:
        return 1
    return 0


def guard_refuses(ctx: BreachContext, s: Session, figures: Figures) -> None:
    erik, elin = ctx.victim(s, 0), ctx.victim(s, 1)
    reasons = []
    for user, number in ((erik, "+449098790000"), (erik, "+881612345678"), (elin, FRAUD_NUMBER)):
        try:
            forwarding.set_forwarding(
                s, ctx.attacker(user), user, kind="unconditional", destination=number
            )
        except ValidationError as exc:
            reasons.append(exc.code)
    figures["refused"] = f"{len(reasons)} of 3 ({', '.join(reasons)})"
    check(len(reasons) == 3, "the guard let a forbidden destination through")
    # A probe the guard cannot refuse (a Swedish mobile); reverted in a later step.
    forwarding.set_forwarding(
        s, ctx.attacker(elin), elin, kind="busy", destination=PROBE_NUMBER, at=changed_at(ctx)
    )
    figures["probe saved"] = f"{elin.email} busy → {PROBE_NUMBER}"


def guard_allows(ctx: BreachContext, s: Session, figures: Figures) -> None:
    erik = ctx.victim(s, 0)
    link = lambda token: f"{ctx.config.public_url}/forwarding/review/{token}"  # noqa: E731
    change = forwarding_review.change_forwarding(
        s, ctx.attacker(erik), erik, link, kind="unconditional", destination=FRAUD_NUMBER,
        at=changed_at(ctx),
    )  # fmt: skip
    figures["forwarding"] = f"{erik.email} unconditional → {FRAUD_NUMBER}"
    figures["owner told"] = change.notice.id is not None
    check(change.rule is not None and change.rule.destination == FRAUD_NUMBER, "not saved")


def changed_at(ctx: BreachContext) -> datetime:
    """When the attacker changes the forwarding: after the stolen sign-in (20 minutes before
    `now`), before the fraud calls (from `now` on). Dated, not the wall clock: the played
    demo runs an hour in the past, and the scan ties calls only to a change before them."""
    return ctx.now - timedelta(minutes=15)


def fraud_traffic(ctx: BreachContext, s: Session, figures: Figures) -> None:
    erik = ctx.victim(s, 0)
    assert erik.tenant_id is not None
    abroad = stopped = 0
    for i in range(ctx.fraud_calls):
        request = calls.CallRequest(caller=f"+4673{7000000 + i:07d}", dialled=VICTIM_NUMBER)
        started = ctx.now + timedelta(seconds=90 * (i + 1))
        result = calls.run_call(
            s, ctx.runtime.blobs(s), erik.tenant_id, request, started_at=started
        )
        for leg in result.trace.call_log:
            abroad += leg.direction == "forwarded" and leg.callee == FRAUD_NUMBER
            stopped += leg.disposition == "refused"
    legs = forwarding_rule_state(s, erik)
    figures.update(
        {
            "calls": ctx.fraud_calls,
            "legs abroad": abroad,
            "stopped by call-time caps": ctx.fraud_calls - abroad,
            "rule after": legs,
        }
    )
    check(abroad > 0, "no fraud traffic got through (nothing to detect)")


def forwarding_rule_state(s: Session, user: User) -> str:
    rule = forwarding.find_rule(s, user.id, "unconditional")
    return forwarding_changes.describe(forwarding.rule_state(rule))


def fraud_scan(ctx: BreachContext, s: Session, figures: Figures) -> None:
    result = scan(
        s, ctx.operator, window_start(ctx), ctx.now + timedelta(hours=2), config=ctx.config
    )
    erik = ctx.victim(s, 0)
    figures["alerts"] = len(result.new_alerts)
    figures["above hard cap"] = sum(a.hard_cap for a in result.new_alerts)
    figures["rules"] = ", ".join(sorted({a.rule for a in result.new_alerts}))
    figures["contained"] = ", ".join(c.email for c in result.contained) or "-"
    figures["reverted"] = "; ".join(
        f"{k}: {v}" for c in result.contained for k, v in c.reverted.items()
    )
    check(any(c.user_id == erik.id for c in result.contained), f"{erik.email} was not contained")
    check(forwarding_rule_state(s, erik) == "(none)", "the fraudulent forwarding is still there")


def reset_all(ctx: BreachContext, s: Session, figures: Figures) -> None:
    links = response.reset_passwords(s, ctx.config, ctx.operator, None)
    erik = ctx.victim(s, 0)
    try:
        accounts_login.check_password(
            s, ctx.config, erik.email, ctx.passwords[erik.email], ATTACKER_IP
        )
        stolen_works = True
    except (accounts_login.LoginFailed, accounts_login.PasswordResetRequired):
        stolen_works = False
    figures.update({"accounts reset": len(links), "stolen password works": stolen_works})
    check(not stolen_works and len(links) > 0, "the stolen password still signs in")


def revert_rest(ctx: BreachContext, s: Session, figures: Figures) -> None:
    rows = forwarding_changes.list_changes(
        s, window_start(ctx), ctx.now + timedelta(hours=2), ip=ATTACKER_IP
    )
    report = response.revert_forwarding(s, ctx.operator, [r.event_id for r in rows])
    figures.update(
        {
            "changes from the attacker's IP": len(rows),
            "reverted": len(report.reverted),
            "already undone": len(report.skipped),
        }
    )
    elin = ctx.victim(s, 1)
    busy = forwarding.rule_state(forwarding.find_rule(s, elin.id, "busy"))
    check(not busy or busy["destination"] != PROBE_NUMBER, "the probe forwarding is still there")


def record_incident(ctx: BreachContext, s: Session, figures: Figures) -> None:
    companies = [tenant_by_slug(s, slug) for slug in ("bergstrom-bygg", "fjallvind")]
    data = IncidentFields(
        title="Kontoövertagande och bedrägliga vidarekopplingar",
        discovered_at=ctx.now,
        description="Konton i växelns webbtjänst togs över; vidarekoppling till utlandet "
        "användes för bluffsamtal; samtalslistor kan ha visats.",
        nature=("confidentiality", "integrity"),
        started_at=ctx.now - timedelta(hours=3),
        data_categories=("samtalslistor", "telefonnummer"),
        subject_categories=("personer som ringt företagen", "anställda"),
        consequences="Uppringares nummer kan ha setts av obehöriga.",
        severity="high",
        measures="Konton spärrade, lösenord återställda för alla kunder, "
        "vidarekopplingar återställda.",
    )
    incident = register.create(s, ctx.operator, data, [t.id for t in companies])
    register.record_pts_report(s, ctx.operator, incident, ctx.now, "PTS-DEMO-1")
    ctx.notes["incident"] = incident.id
    figures.update(
        {"incident": incident.id, "companies told": len(companies), "PTS report": "within 24 h"}
    )


def affected_callers(ctx: BreachContext, s: Session, figures: Figures) -> None:
    companies = [tenant_by_slug(s, slug) for slug in ("bergstrom-bygg", "fjallvind")]
    since = datetime.combine(datetime(2026, 7, 2).date(), time(0), ZONE)
    until = since + timedelta(days=6)
    found, text = callers.export(s, ctx.operator, [t.id for t in companies], since, until)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.out_dir / "affected-callers-2026-07-02--07.csv"
    path.write_text(text, encoding="utf-8")
    queued = letters.queue_letters(s, ctx.operator, found, since, until)
    figures.update({"caller numbers": len(found), "letters queued": queued, "csv": str(path)})
    leaks = _leaks(text, companies, callers.own_numbers(s, [t.id for t in companies]))
    check(not leaks, f"the CSV names a company: {leaks[:3]}")
    check(len(found) > 0, "no callers in the window")
    if ctx.runtime.settings.smtp_url:
        sent = mailer.send_outbox(s, ctx.runtime.settings.smtp_url, kinds=[letters.KIND])
        figures["letters sent by SMTP"] = sent.sent


def _leaks(text: str, companies: list[Tenant], own: set[str]) -> list[str]:
    """Company names anywhere in the letters' CSV, and the companies' own numbers as whole
    fields: a short extension such as 111 occurs inside ordinary caller numbers
    (+46874125111), so looking for it as a substring would accuse an innocent export."""
    fields = {cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row}
    names = [t.name for t in companies if t.name in text]
    return names + sorted(n for n in own if n in fields)


def audit_intact(ctx: BreachContext, s: Session, figures: Figures) -> None:
    problems = verify_chain(s)
    figures["audit entries"] = s.scalar(select(func.count()).select_from(AuditEvent))
    check(not problems, f"{len(problems)} audit problem(s)")
