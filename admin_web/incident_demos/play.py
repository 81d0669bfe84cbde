"""The two incidents played in the demo site (issue 16 items 2–3), from the operator console.

The same steps as `pbx demo media-loss` and `pbx demo breach`, stopped where the people take
over, so the rest is walked through on the pages:
- the backup fault: a verified backup is taken, callers leave voicemail before and after it,
  then every recorded message, greeting, picture and received voicemail of the chosen
  companies vanishes while every row still points at it (the red crosses);
- the account takeover: guessed logins, a stolen password signs in from a foreign address,
  forwarding changed abroad, fraud calls through the call engine; the fraud scan, the
  containment, the revert, the resets and the letters are left to the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from admin_web.incident_demos import breach_steps
from admin_web.incident_demos.breach_context import ATTACKER_IP, FRAUD_NUMBER, BreachContext
from admin_web.incident_demos.media_loss_context import MediaContext, delete_media
from admin_web.incident_demos.media_loss_steps import VOICEMAIL_CALLS
from admin_web.runtime import Runtime
from pbx.incident import loss_record
from pbx.media.wav import tone
from pbx.services.backups import manage as backups
from pbx.services.calls import simulated as calls
from pbx.services.common.actor import Actor
from pbx.services.common.scope import tenant_by_slug
from storage.models import utcnow

BREACH_STEPS = (
    breach_steps.weak_passwords,
    breach_steps.takeover,
    breach_steps.guard_refuses,
    breach_steps.guard_allows,
    breach_steps.fraud_traffic,
)


@dataclass
class MediaLossPlayed:
    backup_id: str
    deleted: dict[str, int] = field(default_factory=dict)  # per company slug: blobs gone
    voicemail: int = 0


@dataclass
class BreachPlayed:
    victims: list[str]
    passwords: dict[str, str]
    attacker_ip: str = ATTACKER_IP
    fraud_number: str = FRAUD_NUMBER


def play_media_loss(runtime: Runtime, actor: Actor, slugs: list[str]) -> MediaLossPlayed:
    """Voicemail, a verified backup, more voicemail, then the fault for the companies."""
    ctx = MediaContext(runtime)
    with runtime.unit_of_work() as s:
        left = _leave_voicemail(ctx, s, set(slugs), 1)
    manifest = backups.create_backup(ctx.live(), ctx.store())
    played = MediaLossPlayed(manifest.backup_id)
    with runtime.unit_of_work() as s:
        played.voicemail = left + _leave_voicemail(ctx, s, set(slugs), 2)
        for slug in slugs:
            tenant = tenant_by_slug(s, slug)
            played.deleted[slug] = delete_media(ctx, s, tenant.id)["blobs"]
        s.flush()
        for slug in slugs:  # the scan that finds the losses records them (the dashboard)
            since = utcnow() - timedelta(days=1)
            loss_record.record_losses(
                s, ctx.runtime.blobs(s), actor, tenant_by_slug(s, slug), since
            )
    return played


def _leave_voicemail(ctx: MediaContext, s: Session, slugs: set[str], batch: int) -> int:
    """The demo's voicemail calls of the chosen companies (each message sounds different)."""
    left = 0
    for i, (slug, number, silent) in enumerate(VOICEMAIL_CALLS):
        if slug not in slugs:
            continue
        request = calls.CallRequest(
            caller=f"+4670{4400000 + batch * 10 + i:07d}",
            dialled=number,
            no_answer=silent,
            say=tone(500 + 40 * i + 170 * batch, 1500 + 100 * batch),
        )
        tenant = tenant_by_slug(s, slug)
        left += len(calls.run_call(s, ctx.runtime.blobs(s), tenant.id, request).voicemail_ids)
    return left


def play_breach(runtime: Runtime, out_dir: Path, fraud_calls: int = 20) -> BreachPlayed:
    """The takeover up to the fraud calls; an hour ago, so "the last 24 hours" holds it."""
    ctx = BreachContext(runtime, out_dir, fraud_calls, 0, now=utcnow() - timedelta(hours=1))
    for step in BREACH_STEPS:
        with runtime.unit_of_work() as s:
            step(ctx, s, {})
    return BreachPlayed(sorted(ctx.passwords), dict(ctx.passwords))
