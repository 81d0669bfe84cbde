"""Phones: a user's SIP credentials and the registrations of their phones.

Registrations live in the database, not in one call worker, so that every worker behind the
SIP edge can ring a user's phones (and a restarted worker forgets nothing). The SIP password
is stored encrypted (like TOTP secrets): digest authentication needs it, a hash would not do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow


class SipAccount(Base):
    __tablename__ = "sip_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_encrypted: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PhoneRegistration(Base):
    __tablename__ = "phone_registrations"
    __table_args__ = (Index("ix_phone_registrations_user_expires", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    contact: Mapped[str] = mapped_column(String(255))  # the Contact URI the phone gave
    transport: Mapped[str] = mapped_column(String(3))  # "udp" or "tcp"
    host: Mapped[str] = mapped_column(String(64))  # where its REGISTER came from
    port: Mapped[int] = mapped_column(Integer)
    user_agent: Mapped[str] = mapped_column(String(128), default="")
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
