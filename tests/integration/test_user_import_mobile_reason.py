"""User import: a foreign mobile is imported under the mobile-number rules when the row says
why (`mobile_reason`, or `mobilskäl` in a Swedish header), as on the user form."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.errors import DestinationRefused
from pbx.services.people import user_import
from storage.models import AuditEvent, User
from tests.builders import make_tenant, make_user
from tests.integration.test_numbers_stats_import import accounts_config, actor_of

NORWEGIAN_MOBILE = "+4741234567"


def test_a_foreign_mobile_with_a_reason_is_imported(session: Session) -> None:
    tenant = make_tenant(session)
    admin = actor_of(make_user(session, tenant, role="company_admin"))
    data = (
        "namn;e-post;mobil;mobilskäl\n"
        f"Ola Nordmann;ola@ek.example;{NORWEGIAN_MOBILE};Pendlar från Oslo\n"
    ).encode()
    checked = user_import.preview(session, admin, tenant, data)
    assert checked.ok, [r.errors for r in checked.rows]
    assert checked.rows[0].values["mobile_reason"] == "Pendlar från Oslo"
    done = user_import.import_users(session, accounts_config(), admin, tenant, data)
    assert done[0].user.mobile == NORWEGIAN_MOBILE
    created = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.create").order_by(AuditEvent.id.desc())
    ).first()
    assert created is not None and "Pendlar från Oslo" in str(created.new)


def test_a_foreign_mobile_without_a_reason_is_refused(session: Session) -> None:
    tenant = make_tenant(session)
    admin = actor_of(make_user(session, tenant, role="company_admin"))
    data = (
        "name,email,mobile,mobile_reason\n"
        f"Ola Nordmann,ola@ek.example,{NORWEGIAN_MOBILE},\n"
        "Kari Nordmann,kari@ek.example,+46900123456,Premium ändå\n"
    ).encode()
    checked = user_import.preview(session, admin, tenant, data)
    refused = [[e for e in r.errors if isinstance(e, DestinationRefused)] for r in checked.rows]
    assert [e.code for e in refused[0]] == ["foreign_mobile_needs_reason"]
    assert refused[1] and refused[1][0].code != "foreign_mobile_needs_reason"  # a reason is no key
    assert session.scalar(select(func.count()).select_from(User)) == 1
