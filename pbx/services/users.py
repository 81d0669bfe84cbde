"""Users and their extensions. Passwords are never chosen here: a new account gets a
setup link from the accounts service; until then it cannot log in."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import Conflict, PermissionDenied, ValidationError
from pbx.policies.destinations import InvalidNumber, parse_e164
from pbx.services import audit
from pbx.services.actor import Actor
from storage.models import Tenant, User, VoicemailBox

ROLES = ("operator", "company_admin", "user")


def new_session_token() -> str:
    return secrets.token_hex(32)


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
) -> User:
    _check_role(actor, tenant, role)
    user = User(
        tenant_id=tenant.id if tenant else None,
        name=identifiers.name(name),
        email=identifiers.email(email),
        role=role,
        extension=identifiers.extension(extension) if extension else None,
        mobile=mobile_number(mobile) if mobile else None,
        status="active",
        must_change_password=True,
        session_token=new_session_token(),
    )
    _refuse_duplicates(session, user)
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
        new={"name": user.name, "email": user.email, "role": role, "extension": user.extension},
    )
    return user


def _check_role(actor: Actor, tenant: Tenant | None, role: str) -> None:
    if role not in ROLES:
        raise ValidationError("role", f"role must be one of {', '.join(ROLES)}")
    if (role == "operator") != (tenant is None):
        raise ValidationError("role", "operators belong to no company; everyone else to one")
    if role == "operator" and not actor.is_operator:
        raise PermissionDenied("only the operator creates operator accounts")
    if tenant is not None and not actor.can_manage_tenant(tenant.id):
        raise PermissionDenied("not an administrator of this company")


def mobile_number(value: str) -> str:
    try:
        return parse_e164(value)
    except InvalidNumber as exc:
        raise ValidationError("mobile", str(exc), code="invalid_number") from None


def _refuse_duplicates(session: Session, user: User) -> None:
    same_email = select(User.id).where(func.lower(User.email) == user.email.lower())
    if session.scalar(same_email) is not None:
        raise Conflict(f"an account with the e-mail {user.email} already exists")
    if user.extension and session.scalar(
        select(User.id).where(User.tenant_id == user.tenant_id, User.extension == user.extension)
    ):
        raise Conflict(f"extension {user.extension} is already taken in this company")


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


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
