"""A tenant is one company (Företag/Organisation) on the switchboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str] = mapped_column(String(11), unique=True)
    home_region: Mapped[str] = mapped_column(String(2), default="SE")
    # ISO 3166 regions a company admin has allowed for international forwarding legs.
    allowed_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    calllog_retention_days: Mapped[int] = mapped_column(Integer, default=90)
    # 333 opens a mailbox for a caller known only by the calling number (which anyone can
    # forge) without the PIN: off unless a company admin turns it on knowingly (audited).
    voicemail_trust_calling_number: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
