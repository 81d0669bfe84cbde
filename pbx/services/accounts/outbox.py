"""The outbox as the operator sees it: what the switchboard queued to send (to, subject,
when, sent or not), newest first. Bodies are not shown: they hold single-use links. Only in
the demo site is a new user's setup link handed back, so that a first login can be tried
without a mail server (the caller decides; production never asks for it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied
from pbx.services.accounts.core import LINK_PATH
from pbx.services.common.actor import Actor
from storage.models import OutboxMessage

SETUP_KIND = "setup_link"
LIMIT = 200
_LINK = re.compile(r"\S*" + re.escape(LINK_PATH) + r"\S+")


@dataclass(frozen=True)
class OutboxLine:
    id: int
    to_address: str
    subject: str
    kind: str
    created_at: datetime
    sent_at: datetime | None
    setup_link: str | None = None  # demo only


def recent(
    session: Session, actor: Actor, *, limit: int = LIMIT, setup_links: bool = False
) -> list[OutboxLine]:
    """The newest `limit` messages of the outbox (operators only)."""
    if not actor.is_operator:
        raise PermissionDenied("only the operator reads the outbox")
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return [_line(m, setup_links) for m in session.scalars(stmt)]


def _line(message: OutboxMessage, setup_links: bool) -> OutboxLine:
    link = None
    if setup_links and message.kind == SETUP_KIND:
        found = _LINK.search(message.body)
        link = found.group(0) if found else None
    return OutboxLine(
        message.id, message.to_address, message.subject, message.kind,
        message.created_at, message.sent_at, link,
    )  # fmt: skip
