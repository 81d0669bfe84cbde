"""Save-time validation: the one rule set of the dialplan.

The engine survives anything (dangling references, loops, refused destinations are handled at
call time), but a dialplan that fails these checks should never be saved. The rules a single
save can break are small pure functions here (`ivr_key_problem`, `follow_unconditional` with
`chain_problem`, `ring_group_conflict`); the services call them on every create and edit (from
the site, the CLI and the fixtures alike), and `validate_dialplan` applies the same functions
to a whole snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from pbx.engine.dialplan import (
    Destination,
    DialplanSnapshot,
    Limits,
    ToExtension,
    ToExternal,
    ToHangup,
    ToHours,
    ToIvr,
    ToQueue,
    ToVoicemail,
)
from pbx.engine.errors import InvalidDialplan

IVR_DIGITS = frozenset("0123456789#")  # '*' is reserved: it repeats the menu
DEFAULT_MAX_FORWARD_DEPTH = Limits().max_forward_depth


@dataclass(frozen=True, slots=True)
class DialplanProblem:
    code: str  # stable: duplicate_id, unknown_reference, invalid_digit, refused_destination...
    where: str  # e.g. "user 201 forwarding busy", "ivr main option 3"
    message: str


def validate_dialplan(snap: DialplanSnapshot) -> tuple[DialplanProblem, ...]:
    """Every problem found in `snap` (empty when it may be saved)."""
    return tuple(
        [
            *_duplicates(snap),
            *_numbers(snap),
            *_users(snap),
            *_menus(snap),
            *_queues(snap),
            *_slots(snap),
            *_loops(snap),
        ]
    )


def check_dialplan(snap: DialplanSnapshot) -> None:
    """Raise InvalidDialplan listing every problem, if there is any."""
    problems = validate_dialplan(snap)
    if problems:
        raise InvalidDialplan(tuple(f"{p.where}: {p.message}" for p in problems))


def ivr_key_problem(digit: str, used: Collection[str], also: Collection[str] = ()) -> str | None:
    """Why `digit` cannot be bound in a menu whose keys `used` are taken: "invalid_digit"
    (one of 0-9 or #, or of `also`), "duplicate_digit", or None."""
    if digit not in IVR_DIGITS and digit not in also:
        return "invalid_digit"
    return "duplicate_digit" if digit in used else None


def follow_unconditional(
    chain: tuple[str, ...], next_ext: Callable[[str], str | None]
) -> tuple[str, ...]:
    """`chain` continued along unconditional forwarding to an extension (`next_ext` gives
    where an extension's rule leads, or None), until an extension repeats or has no rule."""
    steps = list(chain)
    while steps[-1] not in steps[:-1] and (following := next_ext(steps[-1])) is not None:
        steps.append(following)
    return tuple(steps)


def chain_problem(chain: tuple[str, ...], max_depth: int) -> str | None:
    """A forwarding chain (extensions in the order calls go) the engine would refuse:
    "forwarding_loop" if it comes back to an extension, "forwarding_depth" if it is longer
    than `max_depth` extensions (`Limits.max_forward_depth`), else None."""
    if chain[-1] in chain[:-1]:
        return "forwarding_loop"
    return "forwarding_depth" if len(chain) > max_depth else None


def ring_group_conflict(kind: str, announce_position: bool, hold_slot: object) -> bool:
    """A ring group rings everyone at once: it announces no position, plays no hold music."""
    return kind == "ring_group" and (announce_position or hold_slot is not None)


def _duplicates(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    groups: dict[str, Iterable[str]] = {
        "number": (n.e164 for n in snap.numbers),
        "extension": (u.ext for u in snap.users),
        "ivr menu": (m.menu_id for m in snap.ivr_menus),
        "queue": (q.queue_id for q in snap.queues),
        "message slot": (s.slot_id for s in snap.slots),
    }
    for kind, ids in groups.items():
        for key, count in Counter(ids).items():
            if count > 1:
                yield DialplanProblem("duplicate_id", f"{kind} {key}", f"defined {count} times")
    if snap.service.number in snap.number_index or snap.service.number in snap.user_index:
        yield DialplanProblem(
            "duplicate_id", f"number {snap.service.number}", "is the voicemail service number"
        )


def _destination(
    snap: DialplanSnapshot, dest: Destination, where: str
) -> Iterator[DialplanProblem]:
    missing: str | None = None
    if isinstance(dest, ToExtension | ToVoicemail) and dest.ext not in snap.user_index:
        missing = f"no extension {dest.ext}"
    elif isinstance(dest, ToVoicemail) and snap.user_index[dest.ext].voicemail is None:
        missing = f"extension {dest.ext} has no voicemail box"
    elif isinstance(dest, ToIvr) and dest.menu_id not in snap.menu_index:
        missing = f"no IVR menu {dest.menu_id}"
    elif isinstance(dest, ToQueue) and dest.queue_id not in snap.queue_index:
        missing = f"no queue {dest.queue_id}"
    elif isinstance(dest, ToHangup) and dest.slot_id is not None:
        yield from _slot(snap, dest.slot_id, where)
    elif isinstance(dest, ToHours):
        if dest.schedule_id not in snap.schedule_index:
            missing = f"no opening hours {dest.schedule_id}"
        yield from _destination(snap, dest.open, f"{where} (open)")
        yield from _destination(snap, dest.closed, f"{where} (closed)")
        yield from _slot(snap, dest.closed_slot, f"{where} closed message")
    elif isinstance(dest, ToExternal):
        refusal = snap.refusal(dest.e164)
        if refusal is not None:
            yield DialplanProblem(
                "refused_destination", where, f"{refusal.message} ({refusal.reason_code})"
            )
    if missing is not None:
        yield DialplanProblem("unknown_reference", where, missing)


def _slot(snap: DialplanSnapshot, slot_id: str | None, where: str) -> Iterator[DialplanProblem]:
    if slot_id is not None and slot_id not in snap.slot_index:
        yield DialplanProblem("unknown_reference", where, f"no message slot {slot_id}")


def _numbers(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    for number in snap.numbers:
        where = f"number {number.e164}"
        yield from _destination(snap, number.destination, where)
        yield from _slot(snap, number.welcome_slot, f"{where} welcome")


def _users(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    for user in snap.users:
        where = f"user {user.ext}"
        if user.ring_time <= 0:
            yield DialplanProblem("invalid_value", where, "ring time must be positive")
        kinds = Counter(rule.kind for rule in user.forwarding)
        for kind, count in kinds.items():
            if count > 1:
                yield DialplanProblem("duplicate_id", f"{where} forwarding {kind}", "set twice")
        for rule in user.forwarding:
            rule_where = f"{where} forwarding {rule.kind}"
            if rule.destination == ToExtension(user.ext):
                yield DialplanProblem("forwarding_loop", rule_where, "forwards to itself")
            yield from _destination(snap, rule.destination, rule_where)
        if user.voicemail is not None:
            yield from _slot(snap, user.voicemail.greeting_slot, f"{where} greeting")


def _menus(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    for menu in snap.ivr_menus:
        where = f"ivr {menu.menu_id}"
        if menu.timeout <= 0 or menu.max_retries < 0:
            yield DialplanProblem("invalid_value", where, "timeout and retries must be positive")
        for digit, count in Counter(o.digit for o in menu.options).items():
            if count > 1:
                yield DialplanProblem("duplicate_digit", f"{where} option {digit}", "used twice")
        for option in menu.options:
            option_where = f"{where} option {option.digit}"
            if ivr_key_problem(option.digit, ()) == "invalid_digit":
                yield DialplanProblem(
                    "invalid_digit", option_where, "a choice is one of 0-9 or # (* repeats)"
                )
            yield from _destination(snap, option.destination, option_where)
        yield from _destination(snap, menu.timeout_destination, f"{where} timeout")
        yield from _slot(snap, menu.prompt_slot, f"{where} prompt")
        yield from _slot(snap, menu.invalid_slot, f"{where} invalid prompt")


def _queues(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    for queue in snap.queues:
        where = f"queue {queue.queue_id}"
        if queue.max_wait <= 0:
            yield DialplanProblem("invalid_value", where, "maximum wait must be positive")
        for member in queue.members:
            if member not in snap.user_index:
                yield DialplanProblem("unknown_reference", where, f"no extension {member}")
        if queue.ring_time is not None and queue.ring_time <= 0:
            yield DialplanProblem("invalid_value", where, "ring time must be positive")
        if ring_group_conflict(queue.kind, queue.announce_position, queue.hold_slot):
            yield DialplanProblem(
                "invalid_value", where, "a ring group announces no position and has no hold message"
            )
        yield from _destination(snap, queue.overflow, f"{where} overflow")
        yield from _slot(snap, queue.message_slot, f"{where} message")
        yield from _slot(snap, queue.hold_slot, f"{where} message on hold")


def _slots(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    prompts = snap.prompts
    for name in prompts.__dataclass_fields__:
        value = getattr(prompts, name)
        for slot_id in value if isinstance(value, tuple) else (value,):
            yield from _slot(snap, slot_id, f"system prompt {name}")


def _loops(snap: DialplanSnapshot) -> Iterator[DialplanProblem]:
    """Unconditional forwarding that comes back to where it started, or that is longer than
    the engine will follow."""
    for user in snap.users:
        chain = follow_unconditional((user.ext,), lambda ext: _unconditional_to(snap, ext))
        problem = chain_problem(chain, snap.limits.max_forward_depth)
        if problem == "forwarding_loop":
            if chain[-1] == user.ext:  # reported by each member of the loop, not by feeders
                yield DialplanProblem(problem, f"user {user.ext}", "loop: " + " → ".join(chain))
        elif problem == "forwarding_depth":
            yield DialplanProblem(
                problem,
                f"user {user.ext}",
                f"chain of {len(chain)} forwards exceeds {snap.limits.max_forward_depth}",
            )


def _unconditional_to(snap: DialplanSnapshot, ext: str) -> str | None:
    user = snap.user_index.get(ext)
    rule = user.rule("unconditional") if user is not None else None
    if rule is None or not isinstance(rule.destination, ToExtension):
        return None
    return rule.destination.ext
