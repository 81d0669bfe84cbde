"""Each affected company's own assessment and decision, and the deadlines of everyone.

A company admin documents, for their company only: the risk assessment, the decision
(report to IMY, or not), its reasoning (required either way — Art. 33(5)), when IMY was told
and its reference, and when the people concerned were told. The operator reads these; it
does not write them (the company is the controller).

Deadlines: the operator's initial report to PTS 24 hours after discovery; each company's
decision 72 hours after it was told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
from pbx.incident.register import COMPANY_DEADLINE, PTS_DEADLINE
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Incident, IncidentCompany, utcnow
from storage.models.incidents import DECISIONS


@dataclass(frozen=True)
class Decision:
    decision: str  # "report" or "no_report"
    reasoning: str
    assessment: str = ""
    imy_reported_at: datetime | None = None
    imy_reference: str = ""
    subjects_informed_at: datetime | None = None

    def check(self) -> None:
        if self.decision not in DECISIONS or self.decision == "pending":
            raise ValidationError("decision", "choose: report to IMY, or do not report")
        if len(self.reasoning.strip()) < 20:
            raise ValidationError("reasoning", "write the reasoning for the decision")
        if self.decision == "no_report" and self.imy_reported_at is not None:
            raise ValidationError("imy_reported_at", "a report date only goes with 'report'")


def decide(
    session: Session, actor: Actor, part: IncidentCompany, decision: Decision
) -> IncidentCompany:
    """The company admin's assessment and decision (may be revised; each change audited)."""
    if actor.role != "company_admin" or actor.tenant_id != part.tenant_id:
        raise PermissionDenied("only the company's administrators document its decision")
    decision.check()
    old = _state(part)
    part.decision, part.reasoning = decision.decision, decision.reasoning.strip()
    part.assessment = decision.assessment.strip()
    part.imy_reported_at, part.imy_reference = decision.imy_reported_at, decision.imy_reference
    part.subjects_informed_at = decision.subjects_informed_at
    part.decided_by_user_id, part.decided_at = actor.user_id, utcnow()
    audit.record(
        session, actor, "incident.company_decision", tenant_id=part.tenant_id,
        target=("incident", part.incident_id), old=old, new=_state(part),
    )  # fmt: skip
    return part


def _state(part: IncidentCompany) -> dict[str, object]:
    return {
        "decision": part.decision, "reasoning": part.reasoning, "assessment": part.assessment,
        "imy_reported_at": part.imy_reported_at.isoformat() if part.imy_reported_at else None,
        "imy_reference": part.imy_reference,
    }  # fmt: skip


@dataclass(frozen=True)
class Deadline:
    who: str
    due: datetime
    done_at: datetime | None
    status: str  # "done", "done_late", "open", "overdue", "not_required"

    def hours_left(self, now: datetime) -> float:
        return round((self.due - now).total_seconds() / 3600, 1)


def _deadline(who: str, due: datetime, done_at: datetime | None, now: datetime) -> Deadline:
    if done_at is not None:
        return Deadline(who, due, done_at, "done" if done_at <= due else "done_late")
    return Deadline(who, due, None, "overdue" if now > due else "open")


def pts_deadline(incident: Incident, now: datetime | None = None) -> Deadline:
    due = incident.discovered_at + PTS_DEADLINE
    if not incident.pts_reportable:
        return Deadline("PTS", due, None, "not_required")
    return _deadline("PTS", due, incident.pts_reported_at, now or utcnow())


def company_deadline(part: IncidentCompany, now: datetime | None = None) -> Deadline:
    due = part.notified_at + COMPANY_DEADLINE
    done = part.decided_at if part.decision != "pending" else None
    return _deadline(f"company {part.tenant_id}", due, done, now or utcnow())
