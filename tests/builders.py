"""Builders for test data, going through the same services users use."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from pbx.identifiers import RESERVED_EXTENSIONS
from pbx.services.common.actor import SYSTEM
from pbx.services.people import users
from pbx.services.tenants import companies as tenants
from storage.models import Tenant, User

_counter = itertools.count(1)


def _org_number(n: int) -> str:
    base = f"55{n:04d}{n % 10}"[:6] + f"{n % 1000:03d}"
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return f"{base[:6]}-{base[6:]}{(10 - total % 10) % 10}"


def make_tenant(session: Session, **overrides: Any) -> Tenant:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Testbolaget {n} AB",
        "org_number": _org_number(n),
        "slug": f"test-{n}",
    }
    values.update(overrides)
    return tenants.create_tenant(session, SYSTEM, **values)


def _extension(n: int) -> str:
    # The counter is shared by the whole test run: skip numbers the switchboard reserves (333).
    extension = f"{100 + n}"
    return extension if extension not in RESERVED_EXTENSIONS else f"{100 + n}0"


def make_user(session: Session, tenant: Tenant | None, **overrides: Any) -> User:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Användare {n}",
        "email": f"user{n}@example.se",
        "role": "user" if tenant else "operator",
        "extension": _extension(n) if tenant else None,
        "mobile": f"+4670{n:07d}" if tenant else None,
    }
    values.update(overrides)
    return users.create_user(session, SYSTEM, tenant, **values)
