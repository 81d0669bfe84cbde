"""`pbx hours` (numbers and IVR keys), `pbx call --at` and `pbx dnd` on a demo company, on
both databases."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import IvrMenu, IvrOption, Tenant, User
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT, MAIN
from tests.integration.test_switchboard_cli import Run

# the demo company, `run` (click's CliRunner on it) and `factory` of `pbx call`'s tests
pytest_plugins = ["tests.integration.test_switchboard_cli"]


def slug_of(factory: sessionmaker[Session], company: int) -> str:
    with session_scope(factory) as s:
        tenant = s.get(Tenant, company)
        assert tenant is not None
        return tenant.slug


def test_hours_route_and_call_as_if(run: Run, factory: sessionmaker[Session], company: int) -> None:
    slug = slug_of(factory, company)
    done = run("hours", "set", "--tenant", slug, *(f"{d}=08:00-16:30" for d in ("mon", "tue")))
    assert done.exit_code == 0, done.output
    routed = run(
        "hours", "route", "--tenant", slug, "--number", ERIK_DIRECT,
        "--closed-to", "voicemail:101", "--message", "Stängt",
    )  # fmt: skip
    assert routed.exit_code == 0, routed.output
    closed = run("call", "--from", CALLER, "--to", ERIK_DIRECT, "--at", "2025-03-05 10:00")
    assert "opening hours: closed (outside_hours wed)" in closed.output, closed.output
    assert "plays Stängt" in closed.output
    open_ = run("call", "--from", CALLER, "--to", ERIK_DIRECT, "--at", "2025-03-04 16:00")
    assert "opening hours: open (within_hours 08:00–16:30)" in open_.output
    assert run("hours", "closed-day", "--tenant", slug, "2025-03-04", "Flytt").exit_code == 0
    moved = run("call", "--from", CALLER, "--to", ERIK_DIRECT, "--at", "2025-03-04 10:00", "--json")
    steps = json.loads(moved.output)["steps"]
    assert steps[0] == {
        "kind": "hours",
        "at": 0.0,
        "to": "closed",
        "reason": "closed_day",
        "detail": "Flytt",
    }
    assert run("hours", "keep-open", "--tenant", slug, "--year", "2025", "Julafton").exit_code == 0
    shown = json.loads(run("hours", "show", "--tenant", slug, "--year", "2025", "--json").output)
    assert shown["weekly"]["mon"] == "08:00–16:30" and shown["weekly"]["wed"] == ""
    assert {"date": "2025-12-24", "name": "Julafton", "closed": False} in shown["holidays"]
    bad = run("hours", "set", "--tenant", slug, "mon=8-17")
    assert bad.exit_code != 0 and "08:00-17:00" in bad.output


def test_dnd_from_the_command_line(run: Run, factory: sessionmaker[Session], company: int) -> None:
    with session_scope(factory) as s:
        email = s.scalar(
            select(User.email).where(User.tenant_id == company, User.extension == "103")
        )
    assert run("dnd", str(email), "on").exit_code == 0
    trace = run("call", "--from", CALLER, "--to", "+46852001002", "--dry-run")
    assert "103 is on do-not-disturb: busy" in trace.output
    assert run("dnd", str(email), "off").exit_code == 0


def test_hours_route_an_ivr_key(run: Run, factory: sessionmaker[Session], company: int) -> None:
    slug = slug_of(factory, company)
    key = ("hours", "route", "--tenant", slug, "--menu", "Huvudmeny", "--key", "0")
    routed = run(*key, "--closed-to", "voicemail:104", "--message", "Stängt")
    assert routed.exit_code == 0, routed.output
    with session_scope(factory) as s:
        option = s.scalars(
            select(IvrOption)
            .join(IvrMenu, IvrMenu.id == IvrOption.menu_id)
            .where(
                IvrMenu.tenant_id == company, IvrMenu.name == "Huvudmeny", IvrOption.digit == "0"
            )
        ).one()
        assert (option.target_kind, option.closed_kind) == ("user", "voicemail")
        option_id = option.id
    saturday = run(
        "call", "--from", CALLER, "--to", MAIN, "--dtmf", "0", "--at", "2025-03-08 11:00"
    )
    assert "opening hours: closed (outside_hours sat)" in saturday.output, saturday.output
    assert "plays Stängt" in saturday.output
    monday = run("call", "--from", CALLER, "--to", MAIN, "--dtmf", "0", "--at", "2025-03-03 10:00")
    assert "opening hours: open" in monday.output, monday.output
    assert run(*key).exit_code == 0  # no --closed-to: the key leads to Anna at any time
    with session_scope(factory) as s:
        cleared = s.get(IvrOption, option_id)
        assert cleared is not None and cleared.closed_kind is None
    for wrong in (
        ("--menu", "Ingen sådan", "--key", "0"),
        ("--menu", "Huvudmeny", "--key", "8"),  # not a bound key
    ):
        done = run("hours", "route", "--tenant", slug, *wrong, "--closed-to", "hangup")
        assert done.exit_code != 0, done.output
    both = run(*key, "--number", ERIK_DIRECT)
    assert both.exit_code == 2 and "--menu with --key" in both.output
    alone = run("hours", "route", "--tenant", slug, "--menu", "Huvudmeny")
    assert alone.exit_code == 2
