"""Organisation / Knappval: a key's closed branch (open → the key's destination; closed → the
closed message, then another destination), with the same checks as a number's."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from storage.models import IvrOption
from tests.web.site_data import Company, post

pytest_plugins = ["tests.web.site_fixtures"]


def key(app: Flask, menu_id: int, digit: str) -> tuple[str, str | None, int | None, int | None]:
    with app.extensions["pbx"].unit_of_work() as s:
        o = s.scalars(
            select(IvrOption).where(IvrOption.menu_id == menu_id, IvrOption.digit == digit)
        ).one()
        return o.target_kind, o.closed_kind, o.closed_user_id, o.closed_slot_id


def branch(company: Company, **extra: str) -> dict[str, str]:
    return {
        "mode": "change",
        "digit": "1",
        "target_kind": "voicemail",
        "target_voicemail": str(company.admin.id),
        "by_hours": "1",
        "closed_kind": "voicemail",
        "closed_voicemail": str(company.user.id),
        "closed_slot_id": str(company.slot_ok),
        **extra,
    }


def test_a_key_routed_by_opening_hours(app: Flask, as_admin, company: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    assert post(as_admin, f"{path}/keys", branch(company), path).status_code == 302
    assert key(app, company.menu_id, "1") == (
        "voicemail", "voicemail", company.user.id, company.slot_ok,
    )  # fmt: skip
    page = as_admin.get(path)
    assert (
        "Styrs inte av öppettiderna" not in page.text.split('data-digit="1"')[1].split("</tr>")[0]
    )
    change = as_admin.get(f"{path}?digit=1&mode=change&target_kind=voicemail")
    assert 'name="by_hours" value="1" checked' in change.text
    assert f'<option value="{company.slot_ok}" selected>' in change.text
    # unticked: the key leads to its destination at any time
    off = {k: v for k, v in branch(company).items() if k != "by_hours"}
    assert post(as_admin, f"{path}/keys", off, path).status_code == 302
    assert key(app, company.menu_id, "1")[1:] == (None, None, None)


def test_a_new_key_with_a_closed_branch(app: Flask, as_admin, company: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    data = branch(company, mode="add", digit="7", closed_kind="hangup")
    assert post(as_admin, f"{path}/keys", data, path).status_code == 302
    assert key(app, company.menu_id, "7")[:2] == ("voicemail", "hangup")


def test_closed_branch_errors_are_shown_and_nothing_is_saved(
    app: Flask, as_admin, company: Company, rival: Company
) -> None:
    path = f"/ivr/{company.menu_id}"
    before = key(app, company.menu_id, "1")
    foreign = branch(company, closed_slot_id=str(rival.slot_ok))
    response = post(as_admin, f"{path}/keys", foreign, path)
    assert response.status_code == 422 and 'id="closed_slot_id-error"' in response.text
    refused = branch(company, closed_kind="external", closed_external="+88212345678")
    response = post(as_admin, f"{path}/keys", refused, path)
    assert response.status_code == 422 and "+882" in response.text
    stranger = branch(company, closed_voicemail=str(rival.user.id))
    assert post(as_admin, f"{path}/keys", stranger, path).status_code == 422
    assert key(app, company.menu_id, "1") == before  # the key itself is not changed either
