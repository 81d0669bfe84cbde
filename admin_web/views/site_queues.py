"""Organisation / Köer: queues. Members (in hunting order), the queue message, the maximum
wait and where callers go when it is over (overflow; an external number needs
re-authentication, like forwarding)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.request_values import parse_id
from admin_web.views.site_common import (
    Form,
    actor,
    needs_reauth,
    reauth_first,
    render_form,
    site_object,
    site_tenant,
)
from admin_web.views.site_targets import choices, parse_target
from pbx.errors import ValidationError
from pbx.services.library import slots
from pbx.services.routing import queues
from pbx.services.routing.targets import load_target
from storage.models import Queue, Tenant

bp = Blueprint("site_queues", __name__, url_prefix="/queues")
OVERFLOW_KINDS = ("voicemail", "user", "queue", "ivr", "external", "hangup")
QUEUE_KINDS = {"queue": "Queue (callers wait)", "ring_group": "Ring group (no waiting)"}
STRATEGIES = {
    "ring_all": "Ring all at once",
    "in_order": "In order",
    "round_robin": "Round robin",
    "least_recent": "Least recently answered first",
}


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> str:
    """The company's queues."""
    tenant = site_tenant()
    rows = [(q, len(queues.members_of(db(), q.id))) for q in queues.list_queues(db(), tenant.id)]
    return render_template("site/queues.html", rows=rows)


@bp.post("/")
@roles_required("company_admin", "operator")
def create() -> Any:
    tenant = site_tenant()
    form = Form(request.form)
    try:
        queue = queues.create_queue(
            db(), actor(), tenant, name=form.text("name"), message_slot_id=None, members=[]
        )
    except ValidationError as exc:
        form.fail(exc)
        rows = [
            (q, len(queues.members_of(db(), q.id))) for q in queues.list_queues(db(), tenant.id)
        ]
        return render_form("site/queues.html", form, rows=rows)
    flash(_("Queue created. Add its members."), "success")
    return redirect(url_for(".edit", queue_id=queue.id))


@bp.route("/<queue_id>", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def edit(queue_id: str) -> Any:
    """Members, message, maximum wait and overflow of one queue."""
    tenant = site_tenant()
    queue = site_object(Queue, queue_id, tenant)
    form = Form(request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        done = _save(tenant, queue, form)
        if done is not None:
            return done
    members = [m.user_id for m in queues.members_of(db(), queue.id)]
    return render_form(
        "site/queue_edit.html",
        form,
        queue=queue,
        members=members,
        current=load_target(queue, "overflow"),
        choices=choices(tenant, OVERFLOW_KINDS),
        slots=slots.prompt_slots(db(), tenant.id),
        queue_kinds=QUEUE_KINDS,
        strategies=STRATEGIES,
    )


def _save(tenant: Tenant, queue: Queue, form: Form) -> Response | None:
    try:
        overflow = parse_target(form, "overflow", OVERFLOW_KINDS)
        if needs_reauth(tenant, overflow, "overflow"):
            keep = ("overflow_kind", "overflow_external", "max_wait_seconds")
            return reauth_first(
                url_for(".edit", queue_id=queue.id, **{k: form.text(k) for k in keep})
            )
        wait = form.integer("max_wait_seconds")
        if wait is None:
            raise ValidationError("max_wait_seconds", "Enter a whole number.")
        queues.update_queue(
            db(),
            actor(),
            tenant,
            queue,
            name=form.text("name"),
            message_slot_id=form.optional_id("message_slot_id"),
            members=_members(form),
            max_wait_seconds=wait,
            overflow=overflow,
            **_ringing(form),
        )
    except ValidationError as exc:
        form.fail(exc)
        return None
    flash(_("Saved."), "success")
    return redirect(url_for(".edit", queue_id=queue.id))


def _ringing(form: Form) -> dict[str, Any]:
    """Queue or ring group, strategy, ring time, position announcement, message on hold."""
    return {
        "kind": form.text("kind", "queue"),
        "strategy": form.text("strategy", "in_order"),
        "ring_seconds": form.integer("ring_seconds"),
        "announce_position": form.text("announce_position") == "1",
        "hold_slot_id": form.optional_id("hold_slot_id"),
    }


def _members(form: Form) -> list[int]:
    """Checked members, in the order given by their position fields (then by extension)."""
    values = form.values
    chosen = values.getlist("members") if hasattr(values, "getlist") else []
    ids = [i for i in map(parse_id, chosen) if i is not None]
    return sorted(ids, key=lambda i: form.integer(f"position_{i}", 999) or 999)
