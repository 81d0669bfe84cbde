"""The engine's dialplan snapshot of one company, built from the database.

Everything a call may need is loaded with one query per table (numbers, users, forwarding
rules, voicemail boxes, IVR menus and options, queues and members, message slots and their
current versions, unheard voicemail), then frozen into `pbx.engine` dataclasses. Ids become
strings: a slot is `str(message_slots.id)`, a menu `str(ivr_menus.id)`, a queue
`str(queues.id)`, a user `str(users.id)`; a received voicemail message is `vm:<id>` and a
system prompt `sys:<name>` (synthesised, never lost: `system_prompts`).

A slot is playable (`audio_ok`) only when its current version's blob is in the store and
passes its hash; each blob is re-read once per snapshot. The destination policy comes from
the company's home region and allowed countries, and the fraud guard from the call log
(`fraud_guard`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.engine import dialplan as dp
from pbx.errors import NotFound
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.fraud import guard as fraud_guard
from pbx.services.library import system_prompts
from pbx.services.library.scan import blob_status
from pbx.services.routing import hours as opening_hours
from pbx.services.routing.targets import Target, load_target, policy_for
from storage.blobs import BlobStore
from storage.models import (
    CallLogEntry,
    ForwardingRule,
    IvrMenu,
    IvrOption,
    MediaVersion,
    MessageSlot,
    PhoneNumber,
    Queue,
    QueueMember,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
    utcnow,
)

DEFAULT_RING_TIME = 20  # seconds a phone rings before "no answer" (no rule sets it)
TIMEOUT_DIGIT = "t"  # the IVR option row that holds the timeout destination
_SLOT_KINDS: dict[str, dp.SlotKind] = {
    "welcome": "welcome",
    "ivr": "ivr_prompt",
    "queue": "queue",
    "hold": "hold",
    "greeting": "greeting",
}
COMPANY_HOURS = "company"  # the schedule id of the company's opening hours
HUNT_MEMORY = timedelta(days=30)  # how far back round robin and least-recent look
Row = TypeVar("Row")


def build_snapshot(
    session: Session, blobs: BlobStore | None, tenant_id: int, now: datetime | None = None
) -> dp.DialplanSnapshot:
    """The company's dialplan as the engine sees it now (`now` dates the fraud caps).
    Without a blob store audio is not verified (a slot with a version counts as playable):
    for generated traffic, where nothing is played."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no company {tenant_id}")
    rows = _Rows.load(session, tenant.id)
    rows.hunt = _hunt_memory(session, tenant.id, rows, now or utcnow())
    people = [user for user in rows.users if user.extension]
    return dp.DialplanSnapshot(
        tenant_id=str(tenant.id),
        numbers=tuple(_number(rows, n) for n in rows.numbers),
        users=tuple(_user(rows, user) for user in people),
        ivr_menus=tuple(_menu(rows, menu) for menu in rows.menus),
        queues=tuple(_queue(rows, queue) for queue in rows.queues),
        slots=tuple(_slots(rows, blobs)),
        policy=policy_for(tenant),
        prompts=system_prompt_ids(),
        guard=fraud_guard.current_guard(session, tenant, people, now),
        service=dp.ServiceConfig(trust_calling_number=tenant.voicemail_trust_calling_number),
        schedules=_schedules(rows),
    )


@dataclass
class _Rows:
    """One company's routing rows, loaded once."""

    users: list[User]
    rules: dict[int, list[ForwardingRule]]
    boxes: dict[int, VoicemailBox]
    unheard: dict[int, list[VoicemailMessage]]
    numbers: list[PhoneNumber]
    menus: list[IvrMenu]
    options: dict[int, list[IvrOption]]
    queues: list[Queue]
    members: dict[int, list[QueueMember]]
    slots: list[MessageSlot]
    versions: dict[int, MediaVersion]
    hours: list[Any]  # opening_hours rows: the company's and numbers' own
    # queue id → (extension rung last by it, {extension: last answered, POSIX seconds})
    hunt: dict[int, tuple[str | None, dict[str, float]]] | None = None

    @classmethod
    def load(cls, session: Session, tenant_id: int) -> _Rows:
        users = _all(session, select(User).where(User.tenant_id == tenant_id))
        user_ids = [u.id for u in users]
        menus = _all(session, select(IvrMenu).where(IvrMenu.tenant_id == tenant_id))
        queues = _all(session, select(Queue).where(Queue.tenant_id == tenant_id))
        slots = _all(session, select(MessageSlot).where(MessageSlot.tenant_id == tenant_id))
        boxes = _all(session, select(VoicemailBox).where(VoicemailBox.user_id.in_(user_ids)))
        return cls(
            users=users,
            rules=_grouped(_rules(session, user_ids), "user_id"),
            boxes={box.user_id: box for box in boxes},
            unheard=_grouped(_unheard(session, [b.id for b in boxes]), "box_id"),
            numbers=_all(session, select(PhoneNumber).where(PhoneNumber.tenant_id == tenant_id)),
            menus=menus,
            options=_grouped(_options(session, [m.id for m in menus]), "menu_id"),
            queues=queues,
            members=_grouped(_members(session, [q.id for q in queues]), "queue_id"),
            slots=slots,
            versions=_versions(session, slots),
            hours=opening_hours.all_hours(session, tenant_id),
        )

    def extension(self, user_id: int | None) -> str:
        """A user's extension (a user without one is an unreachable `user:<id>`)."""
        for user in self.users:
            if user.id == user_id and user.extension:
                return user.extension
        return f"user:{user_id}"


def _all(session: Session, stmt: Any) -> list[Any]:
    return list(session.scalars(stmt.order_by("id")))


def _grouped(rows: Iterable[Row], key: str) -> dict[int, list[Row]]:
    groups: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups


def _rules(session: Session, user_ids: list[int]) -> list[ForwardingRule]:
    stmt = select(ForwardingRule).where(
        ForwardingRule.user_id.in_(user_ids), ForwardingRule.active.is_(True)
    )
    return _all(session, stmt)


def _unheard(session: Session, box_ids: list[int]) -> list[VoicemailMessage]:
    stmt = (
        select(VoicemailMessage)
        .where(VoicemailMessage.box_id.in_(box_ids), VoicemailMessage.deleted_at.is_(None))
        .where(VoicemailMessage.heard.is_(False))
        .order_by(VoicemailMessage.received_at)
    )
    return list(session.scalars(stmt.order_by(VoicemailMessage.id)))


def _options(session: Session, menu_ids: list[int]) -> list[IvrOption]:
    return _all(session, select(IvrOption).where(IvrOption.menu_id.in_(menu_ids)))


def _members(session: Session, queue_ids: list[int]) -> list[QueueMember]:
    stmt = select(QueueMember).where(QueueMember.queue_id.in_(queue_ids))
    return list(session.scalars(stmt.order_by(QueueMember.position, QueueMember.id)))


def _versions(session: Session, slots: list[MessageSlot]) -> dict[int, MediaVersion]:
    ids = [s.current_version_id for s in slots if s.current_version_id is not None]
    found = session.scalars(select(MediaVersion).where(MediaVersion.id.in_(ids)))
    return {version.id: version for version in found}


# --- rows → engine values -------------------------------------------------------------------


def destination(rows: _Rows, target: Target) -> dp.Destination:
    if target.kind == "user":
        return dp.ToExtension(rows.extension(target.user_id))
    if target.kind == "voicemail":
        return dp.ToVoicemail(rows.extension(target.user_id))
    if target.kind == "ivr":
        return dp.ToIvr(str(target.ivr_id))
    if target.kind == "queue":
        return dp.ToQueue(str(target.queue_id))
    if target.kind == "external" and target.external:
        return dp.ToExternal(target.external)
    return dp.ToHangup()


def _slot_ref(slot_id: int | None) -> str | None:
    return None if slot_id is None else str(slot_id)


def _number(rows: _Rows, number: PhoneNumber) -> dp.NumberRoute:
    to = by_hours(rows, number, destination(rows, load_target(number, "target")))
    return dp.NumberRoute(number.e164, to, _slot_ref(number.welcome_slot_id))


def by_hours(rows: _Rows, row: PhoneNumber | IvrOption, to: dp.Destination) -> dp.Destination:
    """`to` while open, when the number or key has a closed destination (a number follows
    its own hours if it has them, else the company's)."""
    if row.closed_kind is None:
        return to
    schedule = COMPANY_HOURS
    if isinstance(row, PhoneNumber) and any(h.number_id == row.id for h in rows.hours):
        schedule = f"number:{row.id}"
    closed = destination(rows, load_target(row, "closed"))
    return dp.ToHours(schedule, to, closed, _slot_ref(row.closed_slot_id))


def _schedules(rows: _Rows) -> tuple[dp.Schedule, ...]:
    company = [h for h in rows.hours if h.number_id is None]
    found = [
        dp.Schedule(
            COMPANY_HOURS, "company", opening_hours.as_policy(company[0] if company else None)
        )
    ]
    found += [
        dp.Schedule(f"number:{h.number_id}", "number", opening_hours.as_policy(h))
        for h in rows.hours
        if h.number_id is not None
    ]
    return tuple(found)


def _user(rows: _Rows, user: User) -> dp.User:
    rules = rows.rules.get(user.id, [])
    no_answer = [r.ring_seconds for r in rules if r.kind == "no_answer"]
    box = rows.boxes.get(user.id)
    return dp.User(
        user_id=str(user.id),
        ext=user.extension or f"user:{user.id}",
        name=user.name,
        mobile=user.mobile,
        ring_time=no_answer[0] if no_answer else DEFAULT_RING_TIME,
        forwarding=tuple(_rule(rule) for rule in rules),
        voicemail=_box(rows, box) if box is not None else None,
        dnd=bool(user.dnd),
    )


def _rule(rule: ForwardingRule) -> dp.ForwardingRule:
    target: dp.ForwardTarget
    if rule.destination_kind == "external":
        target = dp.ToExternal(rule.destination)
    else:
        target = dp.ToExtension(rule.destination)
    kind: dp.ForwardKind = rule.kind  # type: ignore[assignment]  # checked when saved
    return dp.ForwardingRule(kind, target)


def _box(rows: _Rows, box: VoicemailBox) -> dp.VoicemailBox:
    unheard = rows.unheard.get(box.id, [])
    new = tuple(f"{VOICEMAIL_PREFIX}{m.id}" for m in unheard)
    return dp.VoicemailBox(
        str(box.id), _slot_ref(box.greeting_slot_id), new, greeting_only=box.greeting_only
    )


def _menu(rows: _Rows, menu: IvrMenu) -> dp.IvrMenu:
    options = rows.options.get(menu.id, [])
    keys = tuple(
        dp.IvrOption(o.digit, by_hours(rows, o, destination(rows, load_target(o, "target"))))
        for o in options
        if o.digit != TIMEOUT_DIGIT
    )
    timeout = [o for o in options if o.digit == TIMEOUT_DIGIT]
    return dp.IvrMenu(
        menu_id=str(menu.id),
        name=menu.name,
        prompt_slot=_slot_ref(menu.prompt_slot_id),
        options=keys,
        timeout=menu.timeout_seconds,
        timeout_destination=(
            destination(rows, load_target(timeout[0], "target")) if timeout else dp.ToHangup()
        ),
        invalid_slot=_slot_ref(menu.invalid_slot_id),
        max_retries=menu.max_retries,
    )


def _queue(rows: _Rows, queue: Queue) -> dp.Queue:
    members = tuple(rows.extension(m.user_id) for m in rows.members.get(queue.id, []))
    last_rung, answered = (rows.hunt or {}).get(queue.id, (None, {}))
    return dp.Queue(
        queue_id=str(queue.id),
        name=queue.name,
        members=members,
        message_slot=_slot_ref(queue.message_slot_id),
        max_wait=queue.max_wait_seconds,
        overflow=destination(rows, load_target(queue, "overflow")),
        kind="ring_group" if queue.kind == "ring_group" else "queue",
        strategy=queue.strategy if queue.strategy in dp.STRATEGIES else "in_order",
        ring_time=queue.ring_seconds,
        announce_position=queue.announce_position,
        hold_slot=_slot_ref(queue.hold_slot_id),
        last_rung=last_rung,
        last_answered=tuple(sorted(answered.items())),
    )


def _hunt_memory(
    session: Session, tenant_id: int, rows: _Rows, now: datetime
) -> dict[int, tuple[str | None, dict[str, float]]]:
    """For round-robin queues, the member this queue rang last; for least-recent ones, when
    each member last answered a call (both from the call log of the last 30 days)."""
    memory: dict[int, tuple[str | None, dict[str, float]]] = {}
    since = now - HUNT_MEMORY
    recent = (CallLogEntry.tenant_id == tenant_id, CallLogEntry.started_at >= since)
    for queue in rows.queues:
        if queue.strategy == "round_robin":
            rung = select(CallLogEntry.user_id).where(*recent, CallLogEntry.queue_id == queue.id)
            last = session.scalars(rung.order_by(CallLogEntry.started_at.desc()).limit(1)).first()
            memory[queue.id] = (rows.extension(last) if last else None, {})
        elif queue.strategy == "least_recent":
            ids = [m.user_id for m in rows.members.get(queue.id, [])]
            latest = (
                select(CallLogEntry.user_id, func.max(CallLogEntry.answered_at))
                .where(*recent, CallLogEntry.user_id.in_(ids))
                .where(CallLogEntry.answered_at.is_not(None), CallLogEntry.leg > 1)
                .group_by(CallLogEntry.user_id)
            )
            answered = {
                rows.extension(uid): at.timestamp() for uid, at in session.execute(latest) if at
            }
            memory[queue.id] = (None, answered)
    return memory


def _slots(rows: _Rows, blobs: BlobStore | None) -> list[dp.MessageSlot]:
    """Every slot of the company with its audio checked (each blob once), the unheard
    voicemail messages, and the system prompts."""
    status: dict[str, bool] = {}

    def ok(sha256: str | None) -> bool:
        if not sha256:
            return False
        if blobs is None:
            return True
        if sha256 not in status:
            status[sha256] = blob_status(blobs, sha256) == "ok"
        return status[sha256]

    found = [_slot(rows, slot, ok) for slot in rows.slots]
    for messages in rows.unheard.values():
        found += [
            dp.MessageSlot(
                f"{VOICEMAIL_PREFIX}{m.id}", m.caller, "voicemail_message", ok(m.blob_sha256)
            )
            for m in messages
        ]
    found += [
        dp.MessageSlot(system_prompts.slot_id(n), n, "system") for n in system_prompts.PROMPTS
    ]
    return found


def _slot(rows: _Rows, slot: MessageSlot, ok: Any) -> dp.MessageSlot:
    version = rows.versions.get(slot.current_version_id or 0)
    playable = slot.deleted_at is None and version is not None and ok(version.blob_sha256)
    return dp.MessageSlot(str(slot.id), slot.name, _SLOT_KINDS.get(slot.kind, "welcome"), playable)


def system_prompt_ids() -> dp.SystemPrompts:
    """The switchboard's own prompts (those it can synthesise; others play a tone)."""
    names = [f.name for f in fields(dp.SystemPrompts)]
    return dp.SystemPrompts(
        **{n: system_prompts.slot_id(n) for n in names if n in system_prompts.PROMPTS},
        queue_positions=tuple(system_prompts.slot_id(n) for n in system_prompts.QUEUE_POSITIONS),
    )
