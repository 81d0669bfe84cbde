"""Auditing reads of the call log (SECURITY.md 23): every read of the list is audited, once
a minute per view, person, address and browser, so reloading a page does not flood the log;
full numbers (reveal, export) are audited every time by `calllogs_query`/`calllogs_export`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from pbx.services.audit import log as audit
from pbx.services.calllog.query import CallFilter
from pbx.services.common.actor import Actor
from storage.models import Tenant, UserSession, utcnow

VIEW_ACTION = "calllog.view"
REPEAT_WINDOW = timedelta(minutes=1)


def view_detail(flt: CallFilter, rows: int, cursor: str) -> dict[str, object]:
    """What the audit entry of one list read says: the filters, the page, the row count."""
    return {**flt.audited(), "page": cursor or "first", "rows": rows}


def view_key(actor: Actor, tenant: Tenant, detail: dict[str, object]) -> str:
    """What makes two reads of the list the same view: who, from which address, in which
    company, with which filters and page (a digest; kept on the browser session)."""
    view = [actor.user_id, actor.ip, tenant.id, detail]
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode("utf-8")).hexdigest()


def is_repeat_view(
    browser: UserSession,
    actor: Actor,
    tenant: Tenant,
    detail: dict[str, object],
    now: datetime | None = None,
) -> bool:
    """Whether this browser session had this same view (person, address, company, filters,
    page) audited within the last minute. Reloading one view is audited once a minute, not
    once per reload; the list shows masked numbers only, and full numbers (reveal, export)
    are audited every time. Answered from the session row that signing in loaded (no query
    of its own: the list is the site's busiest page); any worker answers the same."""
    at = browser.calllog_read_at
    if at is None or browser.calllog_read_key != view_key(actor, tenant, detail):
        return False
    return (now or utcnow()) - at < REPEAT_WINDOW


def record_view(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    detail: dict[str, object],
    browser: UserSession | None = None,
    now: datetime | None = None,
) -> None:
    """Audit one read of the list (SECURITY.md 23), and remember it on the `browser`
    session for `is_repeat_view`.

    Meant for a short transaction of its own, right after the read, begun with
    `storage.db.begin_for_writing`: the entry is written even if the page then fails to
    render, and on SQLite concurrent readers of the list queue for the write lock instead of
    failing with "database is locked" (a deferred transaction that reads the chain's tail and
    then writes fails when another writer committed in between)."""
    now = now or utcnow()
    audit.record(
        session,
        actor,
        VIEW_ACTION,
        tenant_id=tenant.id,
        target=("tenant", tenant.id),
        new=detail,
        at=now,
    )
    if browser is not None:
        remembered = {"calllog_read_key": view_key(actor, tenant, detail), "calllog_read_at": now}
        session.execute(update(UserSession).where(UserSession.id == browser.id).values(remembered))
