"""Telling a company's admins what they still have to re-record after media loss, in the
notice's own steps: messages in Organisation / Röstmeddelanden (do not delete any message),
personal greetings through 333, pictures re-uploaded, lost voicemail on the call-back list.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.incident.recovery import Dashboard, LostItem
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library.scan import placements_of
from storage.models import OutboxMessage, Tenant, User

KIND = "media_rerecord"
STEPS_MESSAGES = (
    "Spela in i Organisation / Röstmeddelanden / Röstmeddelanden: klicka på meddelandet, "
    "Redigera, Spela in filen, skriv ditt nummer (+46735xxxxxx), Initiera samtal. "
    "Eller skriv texten och använd text-to-speech. OBS! Ta inte bort något meddelande — "
    "det ligger redan på rätt plats i växeln."
)
STEPS_GREETING = (
    "Ring 333 från din mobil, tryck 5 och tala in hälsningsfrasen efter tonen, avsluta med 0; "
    "tryck 4 för att lyssna."
)


def lines_for(session: Session, items: list[LostItem]) -> list[str]:
    """One line per thing to do, grouped by kind in the dashboard's order."""
    lines = []
    for item in items:
        if item.owner == "slot" and item.kind != "greeting":
            where = ", ".join(placements_of(session, item.owner_id)) or "ingen plats / unused"
            lines.append(f"- Meddelande ({item.kind}): {item.label} — används av: {where}")
        elif item.kind == "greeting":
            lines.append(f"- Hälsningsfras / voicemail greeting: {item.label} — {STEPS_GREETING}")
        elif item.kind == "picture":
            lines.append(f"- Profilbild / profile picture: {item.label} — ladda upp på nytt")
    voicemail = sum(1 for i in items if i.kind == "voicemail")
    if voicemail:
        lines.append(
            f"- {voicemail} mottagna röstmeddelanden kunde inte återställas: se "
            f"återuppringningslistan i växeln / {voicemail} received voicemail messages are "
            f"lost: see the call-back list"
        )
    return lines


def notify_admins(session: Session, actor: Actor, tenant: Tenant, board: Dashboard) -> int:
    """One message to each active company admin; returns how many were queued (none when
    nothing is missing)."""
    lines = lines_for(session, board.still_missing)
    if not lines:
        return 0
    admins = session.scalars(
        select(User).where(
            User.tenant_id == tenant.id, User.role == "company_admin", User.status == "active"
        )
    ).all()
    body = (
        f"Detta saknas fortfarande i växeln för {tenant.name} och behöver spelas in på nytt:\n"
        + "\n".join(lines)
        + f"\n\n{STEPS_MESSAGES}\n\nStill missing for {tenant.name}, to be re-recorded: "
        "see the list above. Do not delete any message: each one is still in its place.\n"
    )
    for admin in admins:
        session.add(
            OutboxMessage(
                tenant_id=tenant.id, user_id=admin.id, to_address=admin.email, kind=KIND,
                subject="Spela in på nytt / Please re-record", body=body,
            )
        )  # fmt: skip
    audit.record(
        session, actor, "incident.rerecord_notice", tenant_id=tenant.id,
        new={"admins": len(admins), "items": len(board.still_missing)},
    )  # fmt: skip
    session.flush()
    return len(admins)
