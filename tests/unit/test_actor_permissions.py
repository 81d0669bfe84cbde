"""The one check of an administrator's change (`Actor.require_admin`), used by every
service that changes a company's numbers, menus, queues, messages, settings and users."""

from __future__ import annotations

import pytest

from pbx.errors import PermissionDenied
from pbx.services.common.actor import SYSTEM, Actor

ADMIN_OF_1 = Actor(10, "admin@a", "company_admin", tenant_id=1)
USER_OF_1 = Actor(11, "user@a", "user", tenant_id=1)
OPERATOR = Actor(1, "op", "operator")


def test_an_admin_manages_own_company_and_its_objects() -> None:
    ADMIN_OF_1.require_admin(1)
    ADMIN_OF_1.require_admin(1, 1, 1)


@pytest.mark.parametrize(
    ("actor", "tenant_id", "owners"),
    [
        (ADMIN_OF_1, 2, ()),  # another company
        (ADMIN_OF_1, 1, (2,)),  # an object of another company, through this one
        (ADMIN_OF_1, None, ()),  # an operators' row (no company)
        (USER_OF_1, 1, ()),  # the wrong role
        (OPERATOR, 1, (None,)),  # even the operator: the object must be the company's
    ],
)
def test_anything_else_is_refused(
    actor: Actor, tenant_id: int | None, owners: tuple[int | None, ...]
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        actor.require_admin(tenant_id, *owners)
    assert refused.value.code == "forbidden"


def test_operators_and_the_system_manage_every_company() -> None:
    OPERATOR.require_admin(7, 7)
    SYSTEM.require_admin(3)
