"""Restore-drill results: the certificate as text, kept per company in the database, and
the last drill of each company for the operator pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.services.audit import log as audit
from pbx.services.backups.drill import CompanyDrill, DrillCertificate
from pbx.services.common.actor import Actor
from storage.models import BackupDrill, BackupDrillCompany, Tenant


def record_drill(session: Session, actor: Actor, certificate: DrillCertificate) -> BackupDrill:
    """Keep a drill's result (one row, and one per company) in the caller's transaction."""
    drill = BackupDrill(
        backup_id=certificate.backup_id,
        backup_created_at=datetime.fromisoformat(certificate.backup_created_at),
        started_at=datetime.fromisoformat(certificate.started_at),
        finished_at=datetime.fromisoformat(certificate.finished_at),
        restorable=certificate.restorable,
        calls_checked=certificate.calls_checked,
        certificate=certificate.as_dict(),
    )
    session.add(drill)
    session.flush()
    session.add_all(_company_row(drill.id, c) for c in certificate.companies)
    audit.record(
        session,
        actor,
        "backup.drill",
        target=("backup", certificate.backup_id),
        new={"restorable": certificate.restorable, "companies": len(certificate.companies)},
    )
    session.flush()
    return drill


def _company_row(drill_id: int, c: CompanyDrill) -> BackupDrillCompany:
    return BackupDrillCompany(
        drill_id=drill_id,
        tenant_id=c.tenant_id,
        tenant_slug=c.slug,
        tenant_name=c.name,
        restorable=c.restorable,
        media_checked=c.media_checked,
        media_problems=c.media_problems,
        numbers=c.numbers,
        ivr_options=c.ivr_options,
        test_calls=c.test_calls,
        test_calls_ok=c.test_calls_ok,
        problems=c.problems[:50],
    )


@dataclass(frozen=True)
class LastDrill:
    """What the operator pages show per company."""

    tenant_id: int
    tenant_slug: str
    tenant_name: str
    backup_id: str
    drilled_at: datetime
    restorable: bool
    calls_checked: bool
    test_calls: int
    test_calls_ok: int
    media_checked: int
    media_problems: int
    problems: tuple[str, ...]


def last_drill_per_company(session: Session) -> list[LastDrill]:
    """The newest drill result of every company that has one, by company short name."""
    newest = (
        select(func.max(BackupDrillCompany.id).label("id"))
        .group_by(BackupDrillCompany.tenant_id)
        .subquery()
    )
    rows = session.execute(
        select(BackupDrillCompany, BackupDrill)
        .join(newest, newest.c.id == BackupDrillCompany.id)
        .join(BackupDrill, BackupDrill.id == BackupDrillCompany.drill_id)
        .order_by(BackupDrillCompany.tenant_slug)
    )
    return [_last(company, drill) for company, drill in rows]


def _last(c: BackupDrillCompany, d: BackupDrill) -> LastDrill:
    return LastDrill(
        c.tenant_id,
        c.tenant_slug,
        c.tenant_name,
        d.backup_id,
        d.finished_at,
        c.restorable,
        d.calls_checked,
        c.test_calls,
        c.test_calls_ok,
        c.media_checked,
        c.media_problems,
        tuple(c.problems),
    )


def certificate_text(certificate: DrillCertificate) -> str:
    """The human-readable certificate (the JSON form is `certificate.as_dict()`)."""
    t = certificate.totals()
    verdict = "RESTORABLE" if certificate.restorable else "NOT RESTORABLE"
    lines = [
        "VÄXEL RESTORE DRILL CERTIFICATE",
        f"Backup:      {certificate.backup_id} ({certificate.database}, taken"
        f" {certificate.backup_created_at})",
        f"Drilled:     {certificate.started_at} – {certificate.finished_at}, restored into a"
        " scratch location",
        f"Verdict:     {verdict}",
        f"Media:       {certificate.blobs_restored} blobs restored and re-hashed,"
        f" {t['media_checked']} references, {t['media_problems']} missing or corrupt",
        f"Test calls:  {len(certificate.companies)} companies, {t['numbers']} numbers,"
        f" {t['ivr_options']} IVR options: {t['test_calls_ok']} of {t['test_calls']} calls"
        " heard every message and ended where they should",
    ]
    lines += [f"Problem:     {p}" for p in certificate.problems]
    for c in certificate.companies:
        state = "restorable" if c.restorable else "NOT restorable"
        lines.append(
            f"  {c.slug:<20} {state:<15} numbers {c.numbers:>3}  IVR options"
            f" {c.ivr_options:>3}  calls {c.test_calls_ok}/{c.test_calls}"
            f"  media {c.media_checked - c.media_problems}/{c.media_checked}"
        )
        lines += [f"      {p}" for p in c.problems[:20]]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CompanyDrillStatus:
    """One row of the operator's drill page: a company and its newest drill, if any."""

    tenant_slug: str
    tenant_name: str
    last: LastDrill | None


def drill_status(session: Session) -> list[CompanyDrillStatus]:
    """Every company, with its newest drill result; companies never drilled (new since the
    last drill) are listed too, so a gap is visible rather than silently absent."""
    last = {d.tenant_id: d for d in last_drill_per_company(session)}
    tenants = session.execute(select(Tenant.id, Tenant.slug, Tenant.name).order_by(Tenant.slug))
    return [
        CompanyDrillStatus(slug, name, last.get(tenant_id)) for tenant_id, slug, name in tenants
    ]
