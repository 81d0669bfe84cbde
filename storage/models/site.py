"""Tables and indexes of the administration site.

`ForwardingNotice` is the owner's copy of a forwarding change (SECURITY.md 17): the change
before and after, and the hash of the single-use "this wasn't me" token that reverts it.
The call-log indexes serve the Samtalslista page's filters (by number, and a user's own
calls newest first); the (tenant_id, started_at) index already serves the default listing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow
from storage.models.calllog import CallLogEntry


class ForwardingNotice(Base):
    __tablename__ = "forwarding_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    old: Mapped[dict[str, object] | None] = mapped_column(JSON)
    new: Mapped[dict[str, object] | None] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reverted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


_calls = CallLogEntry.__table__.c
CALL_LOG_SITE_INDEXES = (
    Index("ix_call_log_tenant_caller", _calls.tenant_id, _calls.caller),
    Index("ix_call_log_tenant_callee", _calls.tenant_id, _calls.callee),
    Index("ix_call_log_user_started", _calls.user_id, _calls.started_at),
)
