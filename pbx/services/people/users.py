"""Users and their extensions. Passwords are never chosen here: a new account gets a
setup link from the accounts service; until then it cannot log in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import DestinationRefused, PermissionDenied, Taken, ValidationError
from pbx.policies.destinations import (
    DestinationNotAllowed,
    InvalidNumber,
    check_own_mobile,
    parse_number,
)
from pbx.services.accounts import notify
from pbx.services.accounts.core import new_session_token
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import ForwardingRule, Tenant, User, VoicemailBox, utcnow

ROLES = ("operator", "company_admin", "user")


def create_user(
    session: Session,
    actor: Actor,
    tenant: Tenant | None,
    *,
    name: str,
    email: str,
    role: str = "user",
    extension: str | None = None,
    mobile: str | None = None,
    mobile_reason: str = "",
) -> User:
    _check_role(actor, tenant, role)
    region = tenant.home_region if tenant else "SE"
    user = User(
        tenant_id=tenant.id if tenant else None,
        name=identifiers.name(name),
        email=identifiers.email(email),
        role=role,
        extension=identifiers.extension(extension) if extension else None,
        mobile=own_mobile(mobile, region, mobile_reason) if mobile else None,
        status="active",
        must_change_password=True,
        session_token=new_session_token(),
    )
    check_email_free(session, user.email)
    if user.extension and user.tenant_id is not None:
        check_extension_free(session, user.tenant_id, user.extension)
    session.add(user)
    session.flush()
    if user.extension:
        session.add(VoicemailBox(user_id=user.id))
    audit.record(
        session,
        actor,
        "user.create",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        new={"name": user.name, "email": user.email, "role": role, "extension": user.extension}
        | _mobile_detail(user.mobile, mobile_reason),
    )
    return user


def _mobile_detail(mobile: str | None, reason: str) -> dict[str, Any]:
    detail: dict[str, Any] = {"mobile": mobile} if mobile else {}
    if mobile and reason.strip():
        detail["mobile_reason"] = reason.strip()[:200]
    return detail


def _check_role(actor: Actor, tenant: Tenant | None, role: str) -> None:
    if role not in ROLES:
        raise ValidationError("role", f"role must be one of {', '.join(ROLES)}")
    if (role == "operator") != (tenant is None):
        raise ValidationError("role", "operators belong to no company; everyone else to one")
    if role == "operator" and not actor.is_operator:
        raise PermissionDenied("only the operator creates operator accounts")
    if tenant is not None:
        actor.require_admin(tenant.id)


def own_mobile(value: str, home_region: str, reason: str = "", field: str = "mobile") -> str:
    """A user's own mobile in E.164 under the number rules (`check_own_mobile`): a domestic
    mobile, or a foreign mobile with a reason; never premium, shared-cost, personal or
    satellite ranges. Whoever holds this number reaches the user's voicemail (333)."""
    try:
        return check_own_mobile(parse_number(value, home_region), home_region, reason).e164
    except InvalidNumber as exc:
        raise ValidationError(field, str(exc), code="invalid_number") from None
    except DestinationNotAllowed as exc:
        raise DestinationRefused(field, exc.message, code=exc.code, number=exc.e164) from None


def check_email_free(session: Session, email: str) -> None:
    """The one rule of every save (create, CSV import): an e-mail is one account's, site-wide,
    whatever its case."""
    if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise Taken(
            "email",
            f"an account with the e-mail {email} already exists",
            code="email_taken",
            params={"email": email},
        )


def check_extension_free(
    session: Session, tenant_id: int, extension: str, user_id: int | None = None
) -> None:
    """The one rule of every save (create, edit, CSV import): an extension is one user's
    within a company (`user_id` is the user being edited, who may keep theirs)."""
    taken = select(User.id).where(User.tenant_id == tenant_id, User.extension == extension)
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if session.scalar(taken) is not None:
        raise Taken(
            "extension",
            f"extension {extension} is already taken in this company",
            code="extension_taken",
            params={"extension": extension},
        )


def list_users(session: Session, tenant_id: int | None = None, search: str = "") -> list[User]:
    stmt = select(User).order_by(User.tenant_id, User.extension, User.name)
    if tenant_id is not None:
        stmt = stmt.where(User.tenant_id == tenant_id)
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(
            func.lower(User.name).like(like)
            | func.lower(User.email).like(like)
            | User.extension.like(like)
        )
    return list(session.scalars(stmt))


# A company admin edits a user: name, extension, mobile and role (SECURITY.md 18).
TENANT_ROLES = ("company_admin", "user")


def update_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str,
    extension: str,
    mobile: str,
    role: str,
    mobile_reason: str = "",
) -> User:
    """Change a user's details; every changed field is audited old → new.

    A new extension carries the forwarding rules that pointed at the old one with it, so
    colleagues who forward to this person keep reaching them. A new mobile must pass the
    number rules (`own_mobile`), and its owner is told through the outbox (SECURITY.md 17);
    the web layer asks for re-authentication first (SECURITY.md 16).
    """
    _check(session, actor, user, role)
    new = {
        "name": identifiers.name(name),
        "extension": _extension(session, user, extension),
        "mobile": _new_mobile(session, user, mobile, mobile_reason),
        "role": role,
    }
    old = {key: getattr(user, key) for key in new}
    changed = sorted(key for key in new if new[key] != old[key])
    if changed:
        detail = _mobile_detail(new["mobile"], mobile_reason) if "mobile" in changed else {}
        _apply(session, actor, user, {k: old[k] for k in changed}, {k: new[k] for k in changed},
               detail)  # fmt: skip
    if "mobile" in changed:
        notify.owner(session, user, "mobile_changed", utcnow())
    return user


def mobile_changes(user: User, mobile: str, home_region: str = "SE") -> bool:
    """Whether `mobile` (as typed on the form) would change the user's mobile number."""
    text = mobile.strip()
    if not text:
        return user.mobile is not None
    try:
        return parse_number(text, home_region) != user.mobile
    except InvalidNumber:
        return True  # refused anyway, by the number rules


def _new_mobile(session: Session, user: User, mobile: str, reason: str) -> str | None:
    if not mobile.strip():
        return None
    tenant = session.get(Tenant, user.tenant_id) if user.tenant_id else None
    region = tenant.home_region if tenant else "SE"
    if not mobile_changes(user, mobile, region):
        return user.mobile  # unchanged: not re-checked against rules that may have tightened
    return own_mobile(mobile, region, reason)


def _apply(
    session: Session,
    actor: Actor,
    user: User,
    old: dict[str, Any],
    new: dict[str, Any],
    detail: dict[str, Any],
) -> None:
    followed = 0
    if "extension" in new and old["extension"]:
        followed = _follow_extension(session, user, old["extension"], new["extension"])
    for key, value in new.items():
        setattr(user, key, value)
    if user.extension and session.scalar(_box(user)) is None:
        session.add(VoicemailBox(user_id=user.id))
    session.flush()
    detail = detail | ({"forwarding_followed": followed} if followed else {})
    audit.record(
        session,
        actor,
        "user.update",
        tenant_id=user.tenant_id,
        target=("user", user.id),
        old=old,
        new=new | detail,
    )


def _box(user: User) -> Any:
    return select(VoicemailBox.id).where(VoicemailBox.user_id == user.id)


def _check(session: Session, actor: Actor, user: User, role: str) -> None:
    actor.require_admin(user.tenant_id)
    if role not in TENANT_ROLES:
        raise ValidationError("role", "role must be company administrator or user")
    if user.role == "company_admin" and role != "company_admin" and _admins(session, user) <= 1:
        raise ValidationError(
            "role", "the company needs at least one active administrator", code="last_admin"
        )


def _admins(session: Session, user: User) -> int:
    stmt = select(func.count(User.id)).where(
        User.tenant_id == user.tenant_id, User.role == "company_admin", User.status == "active"
    )
    return session.scalar(stmt) or 0


def _extension(session: Session, user: User, text: str) -> str | None:
    if not text.strip():
        if user.extension:
            raise ValidationError(
                "extension", "an extension cannot be removed; suspend the user instead"
            )
        return None
    value = identifiers.extension(text)
    if user.tenant_id is not None:
        check_extension_free(session, user.tenant_id, value, user.id)
    return value


def _follow_extension(session: Session, user: User, old: str, new: str | None) -> int:
    colleagues = select(User.id).where(User.tenant_id == user.tenant_id)
    result = session.execute(
        update(ForwardingRule)
        .where(
            ForwardingRule.destination_kind == "extension",
            ForwardingRule.destination == old,
            ForwardingRule.user_id.in_(colleagues),
        )
        .values(destination=new)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
