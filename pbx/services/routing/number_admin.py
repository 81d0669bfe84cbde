"""Numbers of a company as the operator hands them out (issue 17 item 5): add one with the
same E.164 checks as everywhere, remove one unless it is the only way into a menu or queue
that is in use (the refusal names what would be cut off), and the company's numbers with
where each one leads, menu keys and queue overflow included, in one table.

"Where a call can go" is a small graph: numbers (their open and, with opening hours, closed
destinations), IVR keys and queue overflows are edges into menus and queues. A menu or queue
reached only through the number being removed would be cut off."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.routing import numbers
from pbx.services.routing.targets import Target, load_target
from storage.models import IvrMenu, IvrOption, PhoneNumber, Queue, Tenant, User

Node = tuple[str, int]  # ("ivr", id) or ("queue", id)


class NumberInUse(ValidationError):
    """The number is the only way into menus or queues in use; `cut_off` names them."""

    def __init__(self, e164: str, cut_off: list[tuple[str, str]]) -> None:
        names = ", ".join(f"{kind} {name!r}" for kind, name in cut_off)
        super().__init__("number", f"{e164} is the only way into {names}", code="only_way_in")
        self.e164, self.cut_off = e164, cut_off


def _operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise PermissionDenied("only the operator adds or removes a company's numbers")


def assign_number(
    session: Session, actor: Actor, tenant: Tenant, e164: str, target: Target, label: str = ""
) -> PhoneNumber:
    """The operator gives the company a number (E.164, unused) leading to `target`."""
    _operator(actor)
    return numbers.add_number(session, actor, tenant, e164, target, label=label)


def remove_number(session: Session, actor: Actor, number: PhoneNumber) -> None:
    """The operator takes a number away; refused while it is the only way in to something."""
    _operator(actor)
    cut_off = cut_off_by(session, number)
    if cut_off:
        raise NumberInUse(number.e164, cut_off)
    old = {"e164": number.e164, **load_target(number, "target").describe()}
    session.execute(delete(PhoneNumber).where(PhoneNumber.id == number.id))
    audit.record(
        session, actor, "number.remove", tenant_id=number.tenant_id,
        target=("number", number.id), old=old,
    )  # fmt: skip


def _targets(row: object, prefixes: Iterable[str]) -> Iterator[Target]:
    for prefix in prefixes:
        if getattr(row, f"{prefix}_kind", None):
            yield load_target(row, prefix)


def _node(target: Target) -> Node | None:
    if target.kind == "ivr" and target.ivr_id is not None:
        return ("ivr", target.ivr_id)
    if target.kind == "queue" and target.queue_id is not None:
        return ("queue", target.queue_id)
    return None


def _edges(session: Session, tenant_id: int) -> dict[Node, set[Node]]:
    """Menu → menus/queues its keys lead to; queue → where it overflows."""
    edges: dict[Node, set[Node]] = {}
    stmt = select(IvrOption).join(IvrMenu, IvrOption.menu_id == IvrMenu.id)
    for option in session.scalars(stmt.where(IvrMenu.tenant_id == tenant_id)):
        for target in _targets(option, ("target", "closed")):
            if (node := _node(target)) is not None:
                edges.setdefault(("ivr", option.menu_id), set()).add(node)
    for queue in session.scalars(select(Queue).where(Queue.tenant_id == tenant_id)):
        for target in _targets(queue, ("overflow",)):
            if (node := _node(target)) is not None:
                edges.setdefault(("queue", queue.id), set()).add(node)
    return edges


def _reach(starts: Iterable[Node], edges: dict[Node, set[Node]]) -> set[Node]:
    seen: set[Node] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += edges.get(node, ())
    return seen


def _entrances(number: PhoneNumber) -> list[Node]:
    nodes = (_node(t) for t in _targets(number, ("target", "closed")))
    return [node for node in nodes if node is not None]


def cut_off_by(session: Session, number: PhoneNumber) -> list[tuple[str, str]]:
    """Menus and queues reached through `number` and through no other number of the
    company, as (kind, name), menus first."""
    others = session.scalars(
        select(PhoneNumber).where(
            PhoneNumber.tenant_id == number.tenant_id, PhoneNumber.id != number.id
        )
    )
    edges = _edges(session, number.tenant_id)
    still = _reach((n for other in others for n in _entrances(other)), edges)
    lost = sorted(_reach(_entrances(number), edges) - still)
    return [(kind, _name(session, kind, node_id)) for kind, node_id in lost]


def _name(session: Session, kind: str, node_id: int) -> str:
    row: IvrMenu | Queue | None = (
        session.get(IvrMenu, node_id) if kind == "ivr" else session.get(Queue, node_id)
    )
    return row.name if row is not None else str(node_id)


@dataclass(frozen=True)
class Lead:
    """One step of where a number leads: a menu key (`via` "1", "t" for timeout), a queue's
    overflow (`via` "overflow"), or the number itself (`via` "")."""

    depth: int
    via: str
    kind: str
    name: str


def leads_of(session: Session, number: PhoneNumber, limit: int = 40) -> list[Lead]:
    """Where `number` leads, breadth first: its destination, then each menu's keys and each
    queue's overflow, each menu or queue once (menus can point back at each other)."""
    names = _names(session, number.tenant_id)
    leads: list[Lead] = []
    seen: set[Node] = set()
    todo: list[tuple[int, str, Target]] = [(0, "", t) for t in _targets(number, ("target",))]
    while todo and len(leads) < limit:
        depth, via, target = todo.pop(0)
        leads.append(Lead(depth, via, target.kind, _target_name(target, names)))
        node = _node(target)
        if node is None or node in seen:
            continue
        seen.add(node)
        todo += [(depth + 1, v, t) for v, t in _next(session, node)]
    return leads


def _next(session: Session, node: Node) -> list[tuple[str, Target]]:
    kind, node_id = node
    if kind == "queue":
        queue = session.get(Queue, node_id)
        return [("overflow", t) for t in _targets(queue, ("overflow",))] if queue else []
    options = session.scalars(
        select(IvrOption).where(IvrOption.menu_id == node_id).order_by(IvrOption.digit)
    )
    return [(option.digit, load_target(option, "target")) for option in options]


def _names(session: Session, tenant_id: int) -> dict[str, dict[int, str]]:
    def of(model: type[IvrMenu] | type[Queue]) -> dict[int, str]:
        rows = session.execute(select(model.id, model.name).where(model.tenant_id == tenant_id))
        return {row_id: name for row_id, name in rows}

    users = session.execute(
        select(User.id, User.name, User.extension).where(User.tenant_id == tenant_id)
    )
    return {
        "ivr": of(IvrMenu),
        "queue": of(Queue),
        "user": {uid: f"{name} ({ext})" if ext else name for uid, name, ext in users},
    }


def _target_name(target: Target, names: dict[str, dict[int, str]]) -> str:
    if target.kind == "external":
        return target.external or ""
    ref = target.user_id or target.ivr_id or target.queue_id
    table = names.get("user" if target.kind == "voicemail" else target.kind, {})
    return table.get(ref, "") if ref is not None else ""
