"""IVR menus (knappval): a prompt, digit → destination, timeout and invalid-input handling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.engine.validation import IVR_DIGITS, ivr_key_problem
from pbx.errors import ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.library.slots import require_slot
from pbx.services.routing.targets import Target, load_target, store_target, validate_target
from storage.models import IvrMenu, IvrOption, Tenant

# The engine's keys (0-9, #; '*' repeats the menu) and 't', the timeout destination.
TIMEOUT_KEY = "t"
OPTION_KEYS = (*sorted(IVR_DIGITS, key=lambda key: (key == "#", key)), TIMEOUT_KEY)


def create_menu(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    *,
    name: str,
    prompt_slot_id: int | None,
    invalid_slot_id: int | None = None,
    timeout_seconds: int = 8,
    max_retries: int = 3,
) -> IvrMenu:
    _check(actor, tenant)
    menu = IvrMenu(tenant_id=tenant.id, name=identifiers.name(name, max_length=100))
    apply_settings(
        session, tenant, menu, prompt_slot_id, invalid_slot_id, timeout_seconds, max_retries
    )
    session.add(menu)
    session.flush()
    audit.record(
        session,
        actor,
        "ivr.create",
        tenant_id=tenant.id,
        target=("ivr", menu.id),
        new={"name": menu.name, "prompt_slot_id": prompt_slot_id},
    )
    return menu


def apply_settings(
    session: Session,
    tenant: Tenant,
    menu: IvrMenu,
    prompt: int | None,
    invalid: int | None,
    timeout: int,
    retries: int,
) -> None:
    """Validate and set a menu's prompt, invalid-input message, timeout and retries (the same
    rules when a menu is created and when it is edited)."""
    if not 2 <= timeout <= 60:
        raise ValidationError("timeout_seconds", "timeout must be 2–60 seconds")
    if not 1 <= retries <= 10:
        raise ValidationError("max_retries", "retries must be 1–10")
    for field, slot_id in (("prompt_slot_id", prompt), ("invalid_slot_id", invalid)):
        if slot_id is not None:
            require_slot(session, tenant, slot_id, field)
    menu.prompt_slot_id, menu.invalid_slot_id = prompt, invalid
    menu.timeout_seconds, menu.max_retries = timeout, retries


def set_option(
    session: Session, actor: Actor, tenant: Tenant, menu: IvrMenu, digit: str, target: Target
) -> IvrOption:
    """Bind a key (or 't' for timeout); an already-bound key is refused, not replaced."""
    _check(actor, tenant, menu)
    check_key(session, menu, digit)
    option = IvrOption(menu_id=menu.id, digit=digit)
    store_target(option, "target", validate_target(session, tenant, target, "target"))
    session.add(option)
    session.flush()
    audit.record(
        session,
        actor,
        "ivr.option.set",
        tenant_id=tenant.id,
        target=("ivr", menu.id),
        new={"digit": digit, **target.describe()},
    )
    return option


def remove_option(
    session: Session, actor: Actor, tenant: Tenant, menu: IvrMenu, digit: str
) -> None:
    _check(actor, tenant, menu)
    option = find_option(session, menu.id, digit)
    if option is None:
        raise ValidationError("digit", f"key {digit} is not used in this menu")
    old = {"digit": digit, **load_target(option, "target").describe()}
    session.delete(option)
    session.flush()
    audit.record(
        session, actor, "ivr.option.remove", tenant_id=tenant.id, target=("ivr", menu.id), old=old
    )


def check_key(session: Session, menu: IvrMenu, digit: str) -> None:
    """The engine's key rule (`ivr_key_problem`) against the menu's bound keys."""
    used = {option.digit for option in options_of(session, menu.id)}
    problem = ivr_key_problem(digit, used, also=(TIMEOUT_KEY,))
    if problem == "invalid_digit":
        raise ValidationError(
            "digit", "key must be 0–9 or #, or t for the timeout (* repeats)", code=problem
        )
    if problem == "duplicate_digit":
        raise ValidationError("digit", f"key {digit} is already used in this menu", code=problem)


def _check(actor: Actor, tenant: Tenant, menu: IvrMenu | None = None) -> None:
    actor.require_admin(tenant.id, *([menu.tenant_id] if menu else []))


def find_option(session: Session, menu_id: int, digit: str) -> IvrOption | None:
    return session.scalar(
        select(IvrOption).where(IvrOption.menu_id == menu_id, IvrOption.digit == digit)
    )


def options_of(session: Session, menu_id: int) -> list[IvrOption]:
    stmt = select(IvrOption).where(IvrOption.menu_id == menu_id).order_by(IvrOption.digit)
    return list(session.scalars(stmt))


def list_menus(session: Session, tenant_id: int) -> list[IvrMenu]:
    stmt = select(IvrMenu).where(IvrMenu.tenant_id == tenant_id).order_by(IvrMenu.name)
    return list(session.scalars(stmt))


# Editing IVR menus (knappval) from the site: a menu's settings and one key's destination.
def update_menu(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    menu: IvrMenu,
    *,
    name: str,
    prompt_slot_id: int | None,
    invalid_slot_id: int | None,
    timeout_seconds: int,
    max_retries: int,
) -> IvrMenu:
    """Rename a menu and change its prompt, invalid-input message, timeout and retries."""
    _check(actor, tenant, menu)
    old = _settings_of(menu)
    menu.name = identifiers.name(name, max_length=100)
    # The same rules as at creation (slot of this company, 2–60 s, 1–10 retries).
    apply_settings(
        session, tenant, menu, prompt_slot_id, invalid_slot_id, timeout_seconds, max_retries
    )
    new = _settings_of(menu)
    if new != old:
        session.flush()
        audit.record(
            session,
            actor,
            "ivr.update",
            tenant_id=tenant.id,
            target=("ivr", menu.id),
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
        )
    return menu


def _settings_of(menu: IvrMenu) -> dict[str, object]:
    return {
        "name": menu.name,
        "prompt_slot_id": menu.prompt_slot_id,
        "invalid_slot_id": menu.invalid_slot_id,
        "timeout_seconds": menu.timeout_seconds,
        "max_retries": menu.max_retries,
    }


def change_option(
    session: Session, actor: Actor, tenant: Tenant, menu: IvrMenu, digit: str, target: Target
) -> IvrOption:
    """Point a key (or `t`, the timeout) at `target`; binds it if it is not bound yet."""
    _check(actor, tenant, menu)
    option = find_option(session, menu.id, digit)
    if option is None:
        return set_option(session, actor, tenant, menu, digit, target)
    before = load_target(option, "target")
    after = validate_target(session, tenant, target, "target")
    if after == before:
        return option
    store_target(option, "target", after)
    session.flush()
    audit.record(
        session,
        actor,
        "ivr.option.change",
        tenant_id=tenant.id,
        target=("ivr", menu.id),
        old={"digit": digit, **before.describe()},
        new={"digit": digit, **after.describe()},
    )
    return option
