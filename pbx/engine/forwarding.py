"""Ringing users and following their forwarding rules, with loop and depth limits and the
destination policy checked for every outside leg at call time."""

from __future__ import annotations

from pbx.engine.actions import (
    Action,
    DialExternal,
    Direction,
    DoNotDisturb,
    ForwardCall,
    RefuseLeg,
    RingUser,
)
from pbx.engine.common import Result, answered_in, finish, log_leg, memoised, unreachable
from pbx.engine.dialplan import (
    DialplanSnapshot,
    ForwardingRule,
    ForwardKind,
    ToExtension,
    User,
)
from pbx.engine.events import Answer, Busy, Event, Hangup, NoAnswer, Timer, Unavailable
from pbx.engine.states import CallState, Connected, Ringing, RingingExternal
from pbx.engine.voicemail import enter_voicemail
from pbx.policies.destinations import Refusal, classify

EXTERNAL_RING_TIME = 30

_OUTCOMES: dict[type, ForwardKind] = {
    Busy: "busy",
    NoAnswer: "no_answer",
    Timer: "no_answer",
    Unavailable: "unavailable",
}


def enter_user(
    snap: DialplanSnapshot,
    st: CallState,
    ext: str,
    chain: tuple[str, ...] = (),
    via: ForwardingRule | None = None,
) -> Result:
    """Ring `ext` (or follow its unconditional rule). `via` is the rule that led here from
    the last extension of `chain`."""
    user = snap.user_index.get(ext)
    if user is None:
        return refuse(snap, st, ext, "unknown_extension", f"No extension {ext}.", chain, via)
    if ext in chain:
        return refuse(snap, st, ext, "forwarding_loop", "Forwarding loop.", chain, via)
    if len(chain) >= snap.limits.max_forward_depth:
        return refuse(snap, st, ext, "forwarding_depth", "Forwarding too deep.", chain, via)
    st, head = _forwarded(st, ext, chain, via)
    chain = (*chain, ext)
    rule = user.rule("unconditional")
    if rule is not None:
        st, actions = forward(snap, st, user, rule, chain)
        return st, head + actions
    from_ext = chain[-2] if via is not None else None
    kind = via.kind if via is not None else None
    phase = Ringing(ext, user.user_id, chain, st.at, from_ext, kind)
    if user.dnd:  # do not disturb: busy at once, so the busy forwarding applies
        direction: Direction = "forwarded" if kind is not None else "internal"
        st, actions = _not_answered(snap, st.moved(phase), phase, "busy", direction)
        return st, [*head, DoNotDisturb(ext), *actions]
    ring = memoised(snap, ("ring", ext), lambda: [RingUser(ext, user.user_id, user.ring_time)])
    return st.moved(phase), head + ring


def _forwarded(
    st: CallState, to: str, chain: tuple[str, ...], via: ForwardingRule | None
) -> tuple[CallState, list[Action]]:
    """A forwarding leg that passed every check: say so, and remember it for leg 1."""
    if via is None or not chain:
        return st, []
    return st.evolve(forwarded_to=to), [ForwardCall(chain[-1], to, via.kind)]


def forward(
    snap: DialplanSnapshot,
    st: CallState,
    user: User,
    rule: ForwardingRule,
    chain: tuple[str, ...],
) -> Result:
    target = rule.destination
    if isinstance(target, ToExtension):
        return enter_user(snap, st, target.ext, chain, rule)
    return enter_external(snap, st, target.e164, chain, rule, user.ring_time)


def enter_external(
    snap: DialplanSnapshot,
    st: CallState,
    e164: str,
    chain: tuple[str, ...] = (),
    via: ForwardingRule | None = None,
    ring_time: int = EXTERNAL_RING_TIME,
) -> Result:
    """An outside leg: refused unless the tenant's destination policy allows it now and no
    fraud cap blocks it."""
    refusal = snap.refusal(e164) or _capped(snap, e164, chain[-1] if via and chain else None)
    if refusal is not None:
        return refuse(snap, st, e164, refusal.reason_code, refusal.message, chain, via)
    if via is not None and len(chain) >= snap.limits.max_forward_depth:
        return refuse(snap, st, e164, "forwarding_depth", "Forwarding too deep.", chain, via)
    st, head = _forwarded(st, e164, chain, via)
    from_ext = chain[-1] if via is not None and chain else None
    phase = RingingExternal(e164, chain, st.at, from_ext, via.kind if via else None)
    return st.moved(phase), [*head, DialExternal(e164, ring_time)]


def _capped(snap: DialplanSnapshot, e164: str, from_ext: str | None) -> Refusal | None:
    guard = snap.guard
    if from_ext is not None and from_ext in guard.suspended_forwarding:
        return Refusal(
            "forwarding_suspended",
            f"Forwarding of {from_ext} to outside numbers is suspended (fraud cap).",
        )
    if guard.international_blocked:
        if classify(e164, snap.policy.home_region).category == "international":
            return Refusal("cost_cap", "International legs are blocked: a cost cap was crossed.")
    return None


def refuse(
    snap: DialplanSnapshot,
    st: CallState,
    to: str,
    code: str,
    message: str,
    chain: tuple[str, ...],
    via: ForwardingRule | None,
) -> Result:
    """Log and report a leg that is not placed, then fall back to voicemail."""
    direction: Direction = "forwarded" if via is not None else st.direction
    st, log = log_leg(
        snap,
        st,
        direction=direction,
        callee=to,
        since=st.at,
        disposition="refused",
        forwarded_from=chain[-1] if via is not None and chain else None,
        forward_kind=via.kind if via is not None else None,
        refused_reason=code,
    )
    return fall_back(snap, st, chain, [RefuseLeg(to, code, message), log], code)


def fall_back(
    snap: DialplanSnapshot,
    st: CallState,
    chain: tuple[str, ...],
    actions: list[Action],
    reason: str,
) -> Result:
    """Voicemail of the nearest user in the chain who has a box; else unreachable."""
    for ext in reversed(chain):
        user = snap.user_index.get(ext)
        if user is not None and user.voicemail is not None:
            return enter_voicemail(snap, st, ext, actions)
    if st.direction == "outbound" and not chain:
        return finish(snap, st, "refused" if reason else "unreachable", reason, actions)
    return unreachable(snap, st, reason, actions)


def on_ringing(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, Ringing)
    direction: Direction = "forwarded" if phase.kind is not None else "internal"
    if isinstance(event, Answer):
        connected = Connected(
            phase.ext,
            direction,
            phase.since,
            st.at,
            phase.user_id,
            phase.forwarded_from,
            phase.kind,
        )
        return answered_in(st, connected), []
    if isinstance(event, Hangup):
        st, log = log_leg(
            snap,
            st,
            direction=direction,
            callee=phase.ext,
            since=phase.since,
            disposition="abandoned",
            user_id=phase.user_id,
            forwarded_from=phase.forwarded_from,
            forward_kind=phase.kind,
        )
        return finish(snap, st, "abandoned", "", [log])
    outcome = _OUTCOMES.get(type(event))
    if outcome is None:
        return st, []
    return _not_answered(snap, st, phase, outcome, direction)


def _not_answered(
    snap: DialplanSnapshot,
    st: CallState,
    phase: Ringing,
    outcome: ForwardKind,
    direction: Direction,
) -> Result:
    user = snap.user_index[phase.ext]
    rule = user.rule(outcome)
    target = None
    if rule is not None:
        dest = rule.destination
        target = dest.ext if isinstance(dest, ToExtension) else dest.e164
    st, log = log_leg(
        snap,
        st,
        direction=direction,
        callee=phase.ext,
        since=phase.since,
        disposition=outcome,
        user_id=phase.user_id,
        forwarded_from=phase.forwarded_from,
        forward_kind=phase.kind,
        forwarded_to=target,
    )
    if rule is None:
        return fall_back(snap, st, phase.chain, [log], "")
    st, actions = forward(snap, st, user, rule, phase.chain)
    return st, [log, *actions]


def on_ringing_external(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, RingingExternal)
    direction: Direction = "forwarded" if phase.kind is not None else "outbound"
    if isinstance(event, Answer):
        connected = Connected(
            phase.e164, direction, phase.since, st.at, None, phase.forwarded_from, phase.kind
        )
        return answered_in(st, connected), []
    outcome = "abandoned" if isinstance(event, Hangup) else _OUTCOMES.get(type(event))
    if outcome is None:
        return st, []
    st, log = log_leg(
        snap,
        st,
        direction=direction,
        callee=phase.e164,
        since=phase.since,
        disposition=outcome,
        forwarded_from=phase.forwarded_from,
        forward_kind=phase.kind,
    )
    if outcome == "abandoned" or st.direction == "outbound":
        return finish(snap, st, outcome, "", [log])  # an outside call: the caller hears why
    if not phase.chain:
        return unreachable(snap, st, outcome, [log])
    return fall_back(snap, st, phase.chain, [log], "")


def on_connected(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, Connected)
    if not isinstance(event, Hangup):
        return st, []
    st, log = log_leg(
        snap,
        st,
        direction=phase.direction,
        callee=phase.party,
        since=phase.since,
        answered_at=phase.answered,
        disposition="answered",
        user_id=phase.user_id,
        forwarded_from=phase.forwarded_from,
        forward_kind=phase.kind,
        queue_id=phase.queue_id,
    )
    return finish(snap, st, "answered", "", [log])
