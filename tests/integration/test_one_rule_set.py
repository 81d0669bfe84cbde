"""One rule set for every save: the same rule refuses the same input whether a thing is
created or edited, from the services the site calls, the CSV import or the CLI; and the
services' forwarding and IVR-key rules are the engine's own (`pbx.engine.validation`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from admin_web.cli import cli
from pbx.engine import validate_dialplan
from pbx.errors import ValidationError
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.common.actor import SYSTEM
from pbx.services.people import user_import, users
from pbx.services.routing import forwarding, ivr, queues
from pbx.services.routing.targets import Target
from storage.db import make_engine, make_session_factory, session_scope
from tests.builders import make_tenant, make_user


def refused(call: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        call()
    return err.value


def test_a_taken_extension_is_refused_alike_by_create_edit_and_import(session: Session) -> None:
    tenant = make_tenant(session)
    make_user(session, tenant, extension="101")
    other = make_user(session, tenant, extension="102")
    create = refused(
        lambda: users.create_user(
            session, SYSTEM, tenant, name="N", email="n@x.se", extension="101"
        )
    )
    edit = refused(
        lambda: users.update_user(
            session, SYSTEM, other, name=other.name, extension="101", mobile="", role="user"
        )
    )
    csv = b"name,email,extension\nN,n@x.se,101\n"
    found = user_import.preview(session, SYSTEM, tenant, csv).rows[0].errors
    for exc in (create, edit, *found):
        assert (exc.code, exc.field, exc.params) == (
            "extension_taken",
            "extension",
            {"extension": "101"},
        )


def test_the_cli_refuses_a_taken_extension_with_the_same_rule(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PBX_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PBX_PASSWORD_HASH_PROFILE", "test-only-fast")
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        make_user(s, make_tenant(s, slug="regel"), extension="101")
    engine.dispose()
    again = CliRunner().invoke(cli, ["users", "create", "--tenant", "regel", "--name", "B",
                                     "--email", "b@x.se", "--extension", "101"])  # fmt: skip
    assert again.exit_code != 0
    assert "extension: extension 101 is already taken in this company" in again.output


def test_forwarding_refuses_what_the_engine_would_refuse(session: Session, memory_blobs) -> None:
    tenant = make_tenant(session)
    people = [make_user(session, tenant) for _ in range(6)]
    for here, there in zip(people[:4], people[1:5], strict=True):
        forwarding.set_forwarding(
            session, SYSTEM, here, kind="unconditional", destination=str(there.extension)
        )
    # Five extensions in a row are what the engine follows: the snapshot is clean.
    assert validate_dialplan(build_snapshot(session, memory_blobs, tenant.id)) == ()
    for kind in ("unconditional", "busy"):
        loop = refused(
            lambda kind=kind: forwarding.set_forwarding(
                session, SYSTEM, people[4], kind=kind, destination=str(people[0].extension)
            )
        )
        assert loop.code == "forwarding_loop"
    deep = refused(
        lambda: forwarding.set_forwarding(
            session, SYSTEM, people[4], kind="unconditional", destination=str(people[5].extension)
        )
    )
    assert (deep.code, deep.params) == ("forwarding_depth", {"steps": 5})


def test_ivr_keys_are_refused_alike_when_bound_and_when_changed(session: Session) -> None:
    tenant = make_tenant(session)
    user = make_user(session, tenant)
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=None)
    to_user = Target("user", user_id=user.id)
    ivr.set_option(session, SYSTEM, tenant, menu, "1", to_user)
    for bind in (ivr.set_option, ivr.change_option):
        assert refused(lambda b=bind: b(session, SYSTEM, tenant, menu, "*", to_user)).code == (
            "invalid_digit"
        )
    again = refused(lambda: ivr.set_option(session, SYSTEM, tenant, menu, "1", to_user))
    assert again.code == "duplicate_digit"


def test_queue_settings_are_refused_alike_on_create_and_edit(session: Session) -> None:
    tenant = make_tenant(session)
    settings = {"name": "Kö", "message_slot_id": None, "members": []}
    queue = queues.create_queue(session, SYSTEM, tenant, **settings)
    bad = [
        ({"max_wait_seconds": 5}, "max_wait_seconds"),
        ({"max_wait_seconds": 60, "kind": "ring_group", "announce_position": True}, "kind"),
    ]
    for values, field in bad:
        create = refused(lambda v=values: queues.create_queue(session, SYSTEM, tenant,
                                                               **settings, **v))  # fmt: skip
        edit = refused(
            lambda v=values: queues.update_queue(
                session, SYSTEM, tenant, queue, overflow=queues.HANGUP, **settings, **v
            )
        )
        assert create.field == edit.field == field
        assert create.message == edit.message
