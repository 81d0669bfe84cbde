"""What an audit entry's target and ids are called (issue 16 item 7: "user 2" is a code).

The log keeps `(target_type, target_id)` and ids inside its details; the page shows the
object's name instead: a user's name, a message's name, a company's name, a number.
Objects of another company than the reader's are not named (the reader sees the id's kind
only), and a removed object keeps its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from storage.models import Incident, IvrMenu, MessageSlot, PhoneNumber, Queue, Tenant, User

# target_type (and detail keys naming the same kind of object) -> (model, name column)
_MODELS: dict[str, tuple[Any, Any]] = {
    "user": (User, User.name),
    "slot": (MessageSlot, MessageSlot.name),
    "tenant": (Tenant, Tenant.name),
    "ivr": (IvrMenu, IvrMenu.name),
    "queue": (Queue, Queue.name),
    "number": (PhoneNumber, PhoneNumber.e164),
    "incident": (Incident, Incident.title),
}


def named_kinds() -> frozenset[str]:
    return frozenset(_MODELS)


def names(
    session: Session, wanted: Iterable[tuple[str, int]], tenant_id: int | None
) -> dict[tuple[str, int], str]:
    """Names of the wanted `(kind, id)` pairs that exist (and, when `tenant_id` is given,
    belong to that company; incidents and companies are named for operators only)."""
    by_kind: dict[str, set[int]] = {}
    for kind, ident in wanted:
        if kind in _MODELS:
            by_kind.setdefault(kind, set()).add(ident)
    found: dict[tuple[str, int], str] = {}
    for kind, ids in by_kind.items():
        model, column = _MODELS[kind]
        stmt = select(model.id, column).where(model.id.in_(sorted(ids)))
        if tenant_id is not None:
            if not hasattr(model, "tenant_id"):
                stmt = stmt.where(model.id == tenant_id) if model is Tenant else stmt.where(false())
            else:
                stmt = stmt.where(model.tenant_id == tenant_id)
        for ident, name in session.execute(stmt):
            found[(kind, ident)] = str(name)
    return found
