"""How calls are routed: numbers, forwarding rules, IVR menus and options, queues.

A destination is stored the same way everywhere: a kind plus the one target column that
kind uses (`user`, `ivr`, `queue`, `voicemail` → user, `external` → E.164, `hangup`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, utcnow

DESTINATION_KINDS = ("user", "ivr", "queue", "voicemail", "external", "hangup")
QUEUE_KINDS = ("queue", "ring_group")
QUEUE_STRATEGIES = ("ring_all", "in_order", "round_robin", "least_recent")
FORWARDING_KINDS = ("unconditional", "busy", "no_answer", "unavailable")


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    welcome_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(12))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    target_ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"), index=True)
    target_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    target_external: Mapped[str | None] = mapped_column(String(16))
    # Opening hours: with a closed destination set, the target above is the open branch and
    # calls outside the hours (the number's own, else the company's) hear `closed_slot_id`
    # ("Stängt") and go to the closed destination.
    closed_kind: Mapped[str | None] = mapped_column(String(12))
    closed_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"))
    closed_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    closed_external: Mapped[str | None] = mapped_column(String(16))
    closed_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)


class ForwardingRule(Base):
    __tablename__ = "forwarding_rules"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # "extension" (internal) or "external" (an E.164 number checked by the fraud guard).
    destination_kind: Mapped[str] = mapped_column(String(12))
    destination: Mapped[str] = mapped_column(String(16))
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    set_from_ip: Mapped[str | None] = mapped_column(String(45))


class IvrMenu(Base):
    __tablename__ = "ivr_menus"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prompt_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)
    invalid_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=8)
    max_retries: Mapped[int] = mapped_column(Integer, default=3)


class IvrOption(Base):
    """One key of a menu. Digit `t` is the timeout destination (Asterisk's convention)."""

    __tablename__ = "ivr_options"
    __table_args__ = (UniqueConstraint("menu_id", "digit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_id: Mapped[int] = mapped_column(ForeignKey("ivr_menus.id"), index=True)
    digit: Mapped[str] = mapped_column(String(1))
    target_kind: Mapped[str] = mapped_column(String(12))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    target_ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"), index=True)
    target_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    target_external: Mapped[str | None] = mapped_column(String(16))
    # Opening hours for this key (the company's hours), as on phone_numbers.
    closed_kind: Mapped[str | None] = mapped_column(String(12))
    closed_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"))
    closed_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    closed_external: Mapped[str | None] = mapped_column(String(16))
    closed_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    message_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=120)
    overflow_kind: Mapped[str] = mapped_column(String(12), default="hangup")
    overflow_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overflow_ivr_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_menus.id"))
    overflow_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    overflow_external: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10), default="queue", server_default="queue")
    strategy: Mapped[str] = mapped_column(String(12), default="in_order", server_default="in_order")
    # Seconds each ring lasts (all members together for ring_all); None: each member's own.
    ring_seconds: Mapped[int | None] = mapped_column(Integer)
    announce_position: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hold_slot_id: Mapped[int | None] = mapped_column(ForeignKey("message_slots.id"), index=True)


class QueueMember(Base):
    __tablename__ = "queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class OpeningHours(Base):
    """Öppettider: a company's (number_id None) or one number's own opening hours.

    `weekly` is a list of [weekday 0–6, start minute, end minute]; `open_holidays` the Swedish
    names of holidays kept as ordinary days (every other holiday is closed); `closed_days` a
    list of {"date": ISO date, "note": text}, one-off closed days."""

    __tablename__ = "opening_hours"
    __table_args__ = (UniqueConstraint("tenant_id", "number_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_numbers.id"), index=True)
    weekly: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    open_holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    closed_days: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
