"""Destination pickers (numbers, IVR keys, queue overflow): the choices a company offers and
the submitted kind + id/number turned into a `Target` for the services to validate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from admin_web.db import db
from admin_web.request_values import parse_id
from admin_web.views.site_common import Form
from pbx.errors import ValidationError
from pbx.services.routing import ivr, queues
from pbx.services.routing.targets import Target
from storage.models import Tenant, User

KIND_LABELS = {
    "user": "A user (rings their phone)",
    "voicemail": "A user's voicemail",
    "ivr": "An IVR menu",
    "queue": "A queue",
    "external": "An external number",
    "hangup": "Hang up",
}
PART_LABELS = {"user": "User", "voicemail": "User", "ivr": "IVR menu", "queue": "Queue"}


@dataclass(frozen=True)
class Choices:
    kinds: list[tuple[str, str]]
    users: list[tuple[int, str]]
    menus: list[tuple[int, str]]
    queues: list[tuple[int, str]]
    labels: dict[str, str]


def choices(tenant: Tenant, kinds: tuple[str, ...]) -> Choices:
    people = db().scalars(
        select(User)
        .where(User.tenant_id == tenant.id, User.extension.is_not(None))
        .order_by(User.extension)
    )
    return Choices(
        kinds=[(k, KIND_LABELS[k]) for k in kinds],
        users=[(u.id, f"{u.extension} {u.name}") for u in people],
        menus=[(m.id, m.name) for m in ivr.list_menus(db(), tenant.id)],
        queues=[(q.id, q.name) for q in queues.list_queues(db(), tenant.id)],
        labels=PART_LABELS,
    )


def parse_target(form: Form, prefix: str, kinds: tuple[str, ...]) -> Target:
    """The submitted destination; the service checks it belongs to the company."""
    kind = form.text(f"{prefix}_kind")
    if kind not in kinds:
        raise ValidationError(prefix, "Choose where calls go.")
    if kind == "external":
        return Target("external", external=form.text(f"{prefix}_external").strip())
    if kind == "hangup":
        return Target("hangup")
    chosen = parse_id(form.text(f"{prefix}_{kind}"))
    if chosen is None:
        raise ValidationError(prefix, "Choose where calls go.")
    column = {"user": "user_id", "voicemail": "user_id", "ivr": "ivr_id", "queue": "queue_id"}
    return Target(kind, **{column[kind]: chosen})
