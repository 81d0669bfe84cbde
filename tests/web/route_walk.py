"""Walking every registered route with real ids, for tests that must cover routes added
later without anyone remembering to list them (tenant isolation, CSRF).

A route argument names its object: `<user_id>` a User, `<menu_id>` an IvrMenu, and in
general `<snake_case_model>_id` any model. An argument the walker cannot place fails the
walk with a message naming it: add it to ALIASES (or VALUES for non-id arguments), so a new
route is covered instead of silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from pbx.services.common.scope import tenant_of
from storage.models import (
    AuditEvent,
    Base,
    CallLogEntry,
    ForwardingRule,
    IvrMenu,
    IvrOption,
    MediaVersion,
    MessageSlot,
    PhoneNumber,
    ProfilePicture,
    QueueMember,
    User,
    UserSession,
    VoicemailBox,
    VoicemailMessage,
)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Arguments that are not an object's id: a value to put there.
VALUES = {"digit": "1"}
# Routes whose arguments are not object ids at all (static files, links carrying a token).
NOT_OBJECT_ARGS = frozenset({"filename", "token"})
ALIASES: dict[str, type[Any]] = {
    "number_id": PhoneNumber,
    "menu_id": IvrMenu,
    "option_id": IvrOption,
    "member_id": QueueMember,
    "slot_id": MessageSlot,
    "message_slot_id": MessageSlot,
    "version_id": MediaVersion,
    "rule_id": ForwardingRule,
    "forwarding_id": ForwardingRule,
    "box_id": VoicemailBox,
    "message_id": VoicemailMessage,
    "voicemail_id": VoicemailMessage,
    "picture_id": ProfilePicture,
    "entry_id": CallLogEntry,
    "call_id": CallLogEntry,
    "session_id": UserSession,
    "event_id": AuditEvent,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def model_for(argument: str) -> type[Any] | None:
    if argument in ALIASES:
        return ALIASES[argument]
    for mapper in Base.registry.mappers:
        if f"{_snake(mapper.class_.__name__)}_id" == argument:
            return mapper.class_  # type: ignore[no-any-return]
    return None


def object_rules(app: Flask) -> Iterator[Rule]:
    """Rules with at least one argument, none of them a file name or token."""
    for rule in app.url_map.iter_rules():
        if rule.arguments and not (rule.arguments & NOT_OBJECT_ARGS):
            yield rule


def unplaceable(app: Flask) -> list[str]:
    return [
        f"{rule.rule}: <{arg}>"
        for rule in object_rules(app)
        for arg in sorted(rule.arguments)
        if arg not in VALUES and model_for(arg) is None
    ]


def ids_owned_by(session: Session, model: type[Any], tenant_id: int) -> list[int]:
    """Ids of `model` rows belonging to the tenant (through the tenant scope's own paths)."""
    if hasattr(model, "tenant_id"):
        return list(session.scalars(select(model.id).where(model.tenant_id == tenant_id)))
    if hasattr(model, "user_id"):
        users = select(User.id).where(User.tenant_id == tenant_id)
        return list(session.scalars(select(model.id).where(model.user_id.in_(users))))
    rows = session.scalars(select(model))
    return [row.id for row in rows if tenant_of(session, row) == tenant_id]


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    rule: Rule


def calls(
    app: Flask, ids: dict[type[Any], int], methods: frozenset[str] | None = None
) -> Iterator[Call]:
    """One request per method of every object rule, its arguments filled from `ids`."""
    for rule in object_rules(app):
        values = {
            arg: VALUES[arg] if arg in VALUES else ids[model_for(arg)]  # type: ignore[index]
            for arg in rule.arguments
        }
        built = rule.build(values, append_unknown=False)
        assert built is not None, rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if methods is None or method in methods:
                yield Call(method, built[1], rule)


def required_roles(app: Flask, rule: Rule) -> frozenset[str] | None:
    """The roles a view demands (from `roles_required`), None when any signed-in role may."""
    roles: frozenset[str] | None = getattr(
        app.view_functions[rule.endpoint], "required_roles", None
    )
    return roles
