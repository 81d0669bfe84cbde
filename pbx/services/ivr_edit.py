"""Editing IVR menus (knappval) from the site: a menu's settings and one key's destination.

`pbx.services.ivr` creates menus and binds new keys (refusing a key that is already used);
here a bound key can be pointed somewhere else in one audited step, with the same target
validation (a destination in this company; an external number through the fraud guard).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import PermissionDenied
from pbx.services import audit, ivr
from pbx.services.actor import Actor
from pbx.services.targets import Target, load_target, store_target, validate_target
from storage.models import IvrMenu, IvrOption, Tenant


def _check(actor: Actor, tenant: Tenant, menu: IvrMenu) -> None:
    if not actor.can_manage_tenant(tenant.id) or menu.tenant_id != tenant.id:
        raise PermissionDenied("not an administrator of this company")


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
    ivr.apply_settings(
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
    option = ivr.find_option(session, menu.id, digit)
    if option is None:
        return ivr.set_option(session, actor, tenant, menu, digit, target)
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
