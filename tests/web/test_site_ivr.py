"""Organisation / Knappval and Köer: the IVR editor (settings, keys with the domain's errors
next to the field) and the queue editor."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from storage.models import IvrMenu, IvrOption, Queue, QueueMember
from tests.web.site_data import Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]


def options(app: Flask, menu_id: int) -> dict[str, tuple[str, object]]:
    with app.extensions["pbx"].unit_of_work() as s:
        rows = s.scalars(select(IvrOption).where(IvrOption.menu_id == menu_id))
        return {
            o.digit: (o.target_kind, o.target_user_id or o.target_queue_id or o.target_external)
            for o in rows
        }


def test_create_menu_and_error(app, as_admin, company: Company) -> None:
    response = post(as_admin, "/ivr/", {"name": "Kvällsmeny"})
    assert response.status_code == 302 and "/ivr/" in response.headers["Location"]
    assert post(as_admin, "/ivr/", {"name": "   "}).status_code == 422


def test_change_a_key(app, as_admin, company: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    page = as_admin.get(f"{path}?digit=1&mode=change&target_kind=user")
    assert "Ändra knapp 1" in page.text
    data = {
        "mode": "change",
        "digit": "1",
        "target_kind": "voicemail",
        "target_voicemail": str(company.admin.id),
    }
    assert post(as_admin, f"{path}/keys", data, path).status_code == 302
    assert options(app, company.menu_id)["1"] == ("voicemail", company.admin.id)


def test_adding_a_used_key_is_refused_next_to_the_field(app, as_admin, company: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    data = {
        "mode": "add",
        "digit": "1",
        "target_kind": "queue",
        "target_queue": str(company.queue_id),
    }
    response = post(as_admin, f"{path}/keys", data, path)
    assert response.status_code == 422
    assert 'id="digit-error"' in response.text and "används redan" in response.text
    assert options(app, company.menu_id)["1"][0] == "user"


def test_add_timeout_key_and_remove_a_key(app, as_admin, company: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    data = {
        "mode": "add",
        "digit": "t",
        "target_kind": "user",
        "target_user": str(company.admin.id),
    }
    assert post(as_admin, f"{path}/keys", data, path).status_code == 302
    assert post(as_admin, f"{path}/keys/2/remove", {}, path).status_code == 302
    assert set(options(app, company.menu_id)) == {"1", "t"}
    assert post(as_admin, f"{path}/keys/9/remove", {}, path).status_code == 404


def test_key_to_external_numbers_runs_the_guard_and_reauth(app, as_admin, auth, company) -> None:
    path = f"/ivr/{company.menu_id}"
    refused = {
        "mode": "add",
        "digit": "5",
        "target_kind": "external",
        "target_external": "+88212345678",
    }
    response = post(as_admin, f"{path}/keys", refused, path)
    assert response.status_code == 422 and "+882" in response.text
    stale_reauth(as_admin)
    ok = dict(refused, target_external="+46701234567")
    response = post(as_admin, f"{path}/keys", ok, path)
    assert "/reauth" in response.headers["Location"]
    assert "5" not in options(app, company.menu_id)
    auth.reauth(company.admin.password, company.admin.totp)
    assert post(as_admin, f"{path}/keys", ok, path).status_code == 302
    assert options(app, company.menu_id)["5"] == ("external", "+46701234567")


def test_menu_settings_and_their_errors(app, as_admin, company: Company, rival: Company) -> None:
    path = f"/ivr/{company.menu_id}"
    good = {
        "name": "Ny meny",
        "prompt_slot_id": str(company.slot_ok),
        "invalid_slot_id": "",
        "timeout_seconds": "10",
        "max_retries": "2",
    }
    assert post(as_admin, path, good).status_code == 302
    for bad in (
        {"timeout_seconds": "1"},
        {"max_retries": "x"},
        {"prompt_slot_id": str(rival.slot_ok)},
    ):
        response = post(as_admin, path, {**good, **bad})
        assert response.status_code == 422 and "field-error" in response.text, bad
    with app.extensions["pbx"].unit_of_work() as s:
        menu = s.get(IvrMenu, company.menu_id)
        assert (menu.name, menu.timeout_seconds, menu.max_retries) == ("Ny meny", 10, 2)


def test_rival_menu_is_404_and_users_403(app, as_admin, company: Company, rival: Company) -> None:
    path = f"/ivr/{rival.menu_id}"
    data = {"mode": "change", "digit": "1", "target_kind": "hangup"}
    assert post(as_admin, f"{path}/keys", data, "/ivr/").status_code == 404
    assert post(as_admin, f"{path}/keys/1/remove", {}, "/ivr/").status_code == 404
    assert options(app, rival.menu_id)["1"][0] == "user"


def test_users_cannot_edit_menus(app, as_user, company: Company) -> None:
    data = {"mode": "change", "digit": "1", "target_kind": "hangup"}
    path = f"/ivr/{company.menu_id}/keys"
    assert post(as_user, path, data, "/me/forwarding").status_code == 403


def test_queue_editor(app, as_admin, company: Company) -> None:
    path = f"/queues/{company.queue_id}"
    data = {
        "name": "Växelkö",
        "message_slot_id": str(company.slot_ok),
        "members": [str(company.admin.id), str(company.user.id)],
        f"position_{company.admin.id}": "2",
        f"position_{company.user.id}": "1",
        "max_wait_seconds": "45",
        "overflow_kind": "voicemail",
        "overflow_voicemail": str(company.admin.id),
    }
    assert post(as_admin, path, data).status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        queue = s.get(Queue, company.queue_id)
        members = s.scalars(
            select(QueueMember.user_id)
            .where(QueueMember.queue_id == queue.id)
            .order_by(QueueMember.position)
        )
        assert list(members) == [company.user.id, company.admin.id]
        assert (queue.name, queue.max_wait_seconds, queue.overflow_kind) == (
            "Växelkö",
            45,
            "voicemail",
        )


def test_queue_errors(app, as_admin, company: Company, rival: Company) -> None:
    path = f"/queues/{company.queue_id}"
    base = {"name": "Kön", "max_wait_seconds": "60", "overflow_kind": "hangup"}
    for bad in (
        {"max_wait_seconds": "5"},
        {"overflow_kind": "queue", "overflow_queue": str(company.queue_id)},
        {"overflow_kind": "user", "overflow_user": str(rival.user.id)},
        {"members": [str(rival.user.id)]},
        {"overflow_kind": "external", "overflow_external": "+4690012345"},
    ):
        response = post(as_admin, path, {**base, **bad})
        assert response.status_code == 422 and "field-error" in response.text, bad
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(Queue, company.queue_id).max_wait_seconds == 120


def test_queue_create_and_rival_404(app, as_admin, company: Company, rival: Company) -> None:
    assert post(as_admin, "/queues/", {"name": "Support"}).status_code == 302
    assert post(as_admin, "/queues/", {"name": ""}).status_code == 422
    data = {"name": "X", "max_wait_seconds": "60", "overflow_kind": "hangup"}
    assert post(as_admin, f"/queues/{rival.queue_id}", data, "/queues/").status_code == 404
