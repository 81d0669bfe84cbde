"""The media-loss demo's steps, each `(context, session, figures) -> None` in its own unit of
work, through the services of backups, the media scan, the message library, the call engine
and the incident tools."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_web.incident_demos.media_loss_context import AFFECTED, MediaContext, delete_media
from admin_web.incident_demos.runner import check
from pbx.incident import callbacks, recovery, register, rerecord
from pbx.incident.assessment import Decision, decide
from pbx.incident.register import IncidentFields
from pbx.media.tts import build_tts
from pbx.media.wav import tone
from pbx.security.hashing import profile_named
from pbx.services.audit.log import verify_chain
from pbx.services.backups import manage as backups
from pbx.services.backups import restore as backup_restore
from pbx.services.calls import simulated as calls
from pbx.services.calls.drill import test_call_every_path
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.library import bulk_tts as library_bulk
from pbx.services.library import messages as library
from pbx.services.library import scan as media_scan
from pbx.services.library.slots import list_slots
from pbx.services.people import voicemail_pin
from storage.models import AuditEvent, Tenant, User, VoicemailBox, utcnow

Figures = dict[str, Any]
# (company, direct number, extensions that do not answer): the call ends in voicemail
VOICEMAIL_CALLS = (
    ("bergstrom-bygg", "+46852001002", frozenset({"103"})),
    ("kafe-lonnen", "+46406900201", frozenset({"102", "103"})),
)
GREETING_USER = "johan.nilsson@bergstrom-bygg.example"  # records a greeting after the backup
NOTICE_REASONING = (
    "Raderade välkomstmeddelanden, knappval och bilder har inte kommit obehöriga till del och "
    "kan återskapas med enkla medel; ingen risk för ekonomisk skada, bedrägeri eller "
    "identitetsstöld. Osannolikt att incidenten medför risk för de registrerades fri- och "
    "rättigheter; därför ingen rapport till IMY. Förlorade röstmeddelanden ringer vi upp."
)


def _affected(s: Session) -> list[Tenant]:
    return [tenant_by_slug(s, slug) for slug in AFFECTED]


def _leave_voicemail(ctx: MediaContext, s: Session, batch: int) -> int:
    """One call per company that ends in voicemail; each message sounds different."""
    left = 0
    for i, (slug, number, silent) in enumerate(VOICEMAIL_CALLS):
        tenant = tenant_by_slug(s, slug)
        request = calls.CallRequest(
            caller=f"+4670{4400000 + batch * 10 + i:07d}",
            dialled=number,
            no_answer=silent,
            say=tone(500 + 40 * i + 170 * batch, 1500 + 100 * batch),
        )
        result = calls.run_call(s, ctx.runtime.blobs(s), tenant.id, request)
        left += len(result.voicemail_ids)
    return left


def voicemail_before(ctx: MediaContext, s: Session, figures: Figures) -> None:
    figures["voicemail messages"] = _leave_voicemail(ctx, s, 1)
    check(figures["voicemail messages"] == len(VOICEMAIL_CALLS), "a call did not reach voicemail")


def backup(ctx: MediaContext, s: Session, figures: Figures) -> None:
    manifest = backups.create_backup(ctx.live(), ctx.store())
    ctx.backup_id = manifest.backup_id
    figures.update(
        {
            "backup": manifest.backup_id,
            "blobs": manifest.counts.blobs,
            "companies": len(manifest.tenants),
        }
    )


def after_backup(ctx: MediaContext, s: Session, figures: Figures) -> None:
    tenant = _affected(s)[0]
    welcome = next(slot for slot in list_slots(s, tenant.id) if slot.kind == "welcome")
    tts = build_tts(ctx.runtime.settings.tts_engines)
    text = f"Välkommen till {tenant.name}. Vi har nya öppettider: vardagar sju till sexton."
    version = library.save_tts(s, ctx.runtime.blobs(s), tts, ctx.operator, welcome, text, "sv")
    johan = s.scalar(select(User).where(User.email == GREETING_USER))
    assert johan is not None
    saved = _call_333(ctx, s, johan, 880)
    ctx.voicemail_after_backup = _leave_voicemail(ctx, s, 2)
    figures.update(
        {
            "re-worded": f"{welcome.name} ({version.engine})",
            "new greeting by 333": f"{johan.name} ({saved})",
            "voicemail after the backup": ctx.voicemail_after_backup,
        }
    )


DEMO_PIN = "4711"  # the user's voicemail PIN in the demo


def _call_333(ctx: MediaContext, s: Session, user: User, pitch: int) -> int:
    """The notice's steps: call 333 from the own mobile, press 5, speak, hang up. The PIN
    comes first: a calling number alone can be forged, so 333 asks for it by default."""
    assert user.tenant_id is not None and user.mobile is not None
    profile = profile_named(ctx.runtime.settings.password_hash_profile)
    voicemail_pin.set_pin(s, SYSTEM, user, DEMO_PIN, profile)
    say = tone(pitch, 2000)
    request = calls.CallRequest(user.mobile, "333", dtmf=f"{DEMO_PIN}#5", say=say)
    result = calls.run_call(s, ctx.runtime.blobs(s), user.tenant_id, request)
    return len(result.version_ids)


def fault(ctx: MediaContext, s: Session, figures: Figures) -> None:
    ctx.started = utcnow()
    for tenant in _affected(s):
        counts = delete_media(ctx, s, tenant.id)
        figures[tenant.slug] = ", ".join(f"{k} {v}" for k, v in counts.items())


def scan(ctx: MediaContext, s: Session, figures: Figures) -> None:
    tenants = _affected(s)
    data = IncidentFields(
        title="Inspelade meddelanden raderade av fel i backup-lösningen",
        discovered_at=ctx.started,
        started_at=ctx.started,
        nature=("availability", "integrity"),
        description="Välkomstmeddelanden, knappval, kömeddelanden, profilbilder, hälsningsfraser "
        "och mottagna röstmeddelanden raderades för drabbade företag.",
        data_categories=("röstinspelningar", "profilbilder", "röstmeddelanden"),
        subject_categories=("anställda", "personer som lämnat röstmeddelanden"),
        consequences="Ett företag kan missa t.ex. en avbokning i ett raderat röstmeddelande.",
        measures="Återställt från backup, återskapat med text-to-speech, uppringningslistor.",
    )
    incident = register.create(s, ctx.operator, data, [t.id for t in tenants])
    ctx.incident_id = incident.id
    for part in register.parts_of(s, incident):
        found = recovery.store_baseline(s, ctx.runtime.blobs(s), part)
        kinds: dict[str, int] = {}
        for item in found["items"]:
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
        tenant = s.get(Tenant, part.tenant_id)
        figures[tenant.slug if tenant else str(part.tenant_id)] = ", ".join(
            f"{k} {v}" for k, v in sorted(kinds.items())
        )
    report = media_scan.scan_media(s, ctx.runtime.blobs(s))
    figures["missing (scan)"] = sum(p.status == "missing" for p in report.problems)
    check(figures["missing (scan)"] > 0, "the scan found nothing missing")


def restore(ctx: MediaContext, s: Session, figures: Figures) -> None:
    backup_set = ctx.store().get(ctx.backup_id)
    restored = 0
    for tenant in _affected(s):
        selection = backup_restore.Selection(tenant_id=tenant.id)
        report = backup_restore.restore_media(
            s, ctx.runtime.blobs(s), ctx.operator, backup_set, selection, missing_only=True
        )
        check(report.ok, f"restore of {tenant.slug} refused: {report.refused[:1]}")
        restored += report.blobs_restored
    figures["blobs restored"] = restored


def regenerate(ctx: MediaContext, s: Session, figures: Figures) -> None:
    tts = build_tts(ctx.runtime.settings.tts_engines)
    done = needs = failed = 0
    for tenant in _affected(s):
        result = library_bulk.regenerate_missing(
            s, ctx.runtime.blobs(s), tts, ctx.operator, tenant_id=tenant.id
        )
        done += len(result.regenerated)
        needs += len(result.needs_recording)
        failed += len(result.failed)
    figures.update({"regenerated": done, "need a recording": needs, "failed": failed})
    check(done > 0 and failed == 0, "nothing could be regenerated")


def rerecord_greetings(ctx: MediaContext, s: Session, figures: Figures) -> None:
    recorded = []
    for tenant in _affected(s):
        missing = library_bulk.missing_messages(s, ctx.runtime.blobs(s), tenant.id)
        for slot in missing.without_script:
            owner = s.scalar(
                select(User)
                .join(VoicemailBox, VoicemailBox.user_id == User.id)
                .where(VoicemailBox.greeting_slot_id == slot.id)
            )
            if owner is not None and _call_333(ctx, s, owner, 660 + len(recorded)):
                recorded.append(owner.name)
    figures["greetings re-recorded by 333"] = ", ".join(recorded) or "-"
    check(bool(recorded), "no greeting was re-recorded")


def test_calls(ctx: MediaContext, s: Session, figures: Figures) -> None:
    paths = missing = 0
    for tenant in _affected(s):
        report = test_call_every_path(s, ctx.runtime.blobs(s), tenant.id)
        paths += len(report.paths)
        missing += sum(len(p.missing) for p in report.paths)
    figures.update({"paths called": paths, "messages missing": missing})
    check(paths > 0 and missing == 0, f"{missing} message(s) still missing on the test calls")


def dashboard(ctx: MediaContext, s: Session, figures: Figures) -> None:
    incident = register.get_incident(s, ctx.operator, ctx.incident_id)
    lost_voicemail = told = 0
    for part in register.parts_of(s, incident):
        tenant = s.get(Tenant, part.tenant_id)
        assert tenant is not None
        board = recovery.dashboard_for(s, ctx.runtime.blobs(s), part)
        total = board.total
        figures[tenant.slug] = (
            f"lost {total.lost}, restored {total.restored}, tts "
            f"{total.regenerated}, re-recorded {total.rerecorded}, "
            f"missing {total.missing}"
        )
        told += rerecord.notify_admins(s, ctx.operator, tenant, board)
        rows = callbacks.lost_voicemail(s, ctx.runtime.blobs(s), ctx.operator, tenant)
        lost_voicemail += len(rows)
    figures.update({"admins told": told, "voicemail to call back": lost_voicemail})
    check(lost_voicemail == ctx.voicemail_after_backup, "the call-back list is incomplete")


def decisions(ctx: MediaContext, s: Session, figures: Figures) -> None:
    incident = register.get_incident(s, ctx.operator, ctx.incident_id)
    decided = 0
    for part in register.parts_of(s, incident):
        admin = s.scalar(
            select(User).where(User.tenant_id == part.tenant_id, User.role == "company_admin")
        )
        assert admin is not None
        actor = Actor(admin.id, admin.email, admin.role, admin.tenant_id, "192.0.2.20")
        decide(
            s,
            actor,
            part,
            Decision(
                "no_report",
                NOTICE_REASONING,
                assessment="Låg risk; allt utom röstmeddelanden återskapat.",
            ),
        )
        decided += part.decided_at is not None and part.decided_at - part.notified_at < timedelta(
            hours=72
        )
    figures["decided within 72 h"] = f"{decided} of {len(register.parts_of(s, incident))}"
    check(decided == 2, "a company has not documented its decision")


def audit_intact(ctx: MediaContext, s: Session, figures: Figures) -> None:
    problems = verify_chain(s)
    figures["audit entries"] = s.scalar(select(func.count()).select_from(AuditEvent))
    check(not problems, f"{len(problems)} audit problem(s)")
