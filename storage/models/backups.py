"""Restore drills: the result of restoring a backup into a scratch location and calling
through it, kept per company so the operator pages can show the last drill of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class BackupDrill(Base):
    __tablename__ = "backup_drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    backup_id: Mapped[str] = mapped_column(String(64), index=True)
    backup_created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    restorable: Mapped[bool] = mapped_column(Boolean)
    # False when the test-call step could not run (no call engine): media checks only.
    calls_checked: Mapped[bool] = mapped_column(Boolean)
    certificate: Mapped[dict[str, Any]] = mapped_column(JSON)


class BackupDrillCompany(Base):
    """One company's part of a drill. `tenant_id` has no foreign key: the company is the
    one in the backup, which may since have left the live database."""

    __tablename__ = "backup_drill_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("backup_drills.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    tenant_slug: Mapped[str] = mapped_column(String(40))
    tenant_name: Mapped[str] = mapped_column(String(200))
    restorable: Mapped[bool] = mapped_column(Boolean)
    media_checked: Mapped[int] = mapped_column(Integer, default=0)
    media_problems: Mapped[int] = mapped_column(Integer, default=0)
    numbers: Mapped[int] = mapped_column(Integer, default=0)
    ivr_options: Mapped[int] = mapped_column(Integer, default=0)
    test_calls: Mapped[int] = mapped_column(Integer, default=0)
    test_calls_ok: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
