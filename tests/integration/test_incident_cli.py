"""`pbx fraud …` and `pbx incident …` on both databases, configured only through PBX_*."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_web.cli import cli
from pbx.policies.fraud_rules import ZONE
from pbx.services.routing import forwarding
from storage.models import OutboxMessage, User
from tests.integration.incident_world import (
    ATTACKER_IP,
    Takeover,
    build_takeover,
    forwarded_legs,
    write_traffic,
)
from tests.smtp_sink import smtp_sink

Invoke = Callable[..., Result]


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("PBX_DATABASE_URL", db_url)
    monkeypatch.setenv("PBX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PBX_PASSWORD_HASH_PROFILE", "test-only-fast")
    monkeypatch.delenv("PBX_SMTP_URL", raising=False)

    def invoke(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    return invoke


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Takeover:
    with session_factory() as s, s.begin():
        made = build_takeover(s)
        start = made.changed_at + timedelta(minutes=1)
        write_traffic(s, forwarded_legs(made, 20, start=start))
        return made


def day(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.astimezone(ZONE).date().isoformat()


def test_fraud_scan_contains_and_lists_alerts(
    run: Invoke, world: Takeover, session_factory: sessionmaker[Session]
) -> None:
    since, until = day(world.changed_at), day(world.changed_at + timedelta(days=1))
    report = json.loads(run("fraud", "scan", "--since", since, "--until", until, "--json").output)
    assert [c["email"] for c in report["contained"]] == [world.victim.email]
    assert report["new_alerts"] and report["contained"][0]["reset_link"] is None
    listed = run("fraud", "alerts", "--status", "all").output
    assert "intl_legs_user_hour" in listed and "HARD CAP" in listed
    again = run("fraud", "scan", "--since", since, "--until", until).output
    assert "0 new alert(s), 0 contained" in again
    assert (
        f"{world.victim.email}: forwarding back on"
        in run("fraud", "lift", world.victim.email).output
    )
    with session_factory() as s:
        assert forwarding.find_rule(s, world.victim.id, "busy").active  # type: ignore[union-attr]


def test_fraud_thresholds_show_overrides_and_refuse_unknown(run: Invoke) -> None:
    shown = json.loads(
        run("fraud", "thresholds", "--set", "intl_legs_user_hour.hard_cap=30", "--json").output
    )
    assert shown["intl_legs_user_hour"] == {"alert": 5.0, "hard_cap": 30.0}
    bad = run("fraud", "thresholds", "--set", "nonsense=1", ok=False)
    assert "unknown fraud threshold" in bad.output


def test_forwarding_changes_are_listed_and_reverted(
    run: Invoke, world: Takeover, session_factory: sessionmaker[Session]
) -> None:
    since = day(world.changed_at)
    listed = run("incident", "forwarding-changes", "--since", since, "--ip", ATTACKER_IP).output
    assert "2 change(s)" in listed and f"by {world.victim.email} from {ATTACKER_IP}" in listed
    done = run(
        "incident", "forwarding-changes", "--since", since, "--ip", ATTACKER_IP, "--revert", "--yes"
    ).output
    assert "reverted" in done
    with session_factory() as s:
        assert forwarding.find_rule(s, world.victim.id, "unconditional") is None
        busy = forwarding.find_rule(s, world.victim.id, "busy")
        assert busy is not None and busy.destination == world.victim.mobile


def test_affected_callers_csv_letters_and_smtp(
    run: Invoke,
    world: Takeover,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
) -> None:
    out = tmp_path / "callers.csv"
    with smtp_sink() as (url, mailbox):
        monkeypatch.setenv("PBX_SMTP_URL", url)
        text = run(
            "incident",
            "affected-callers",
            "--tenant",
            world.tenant.slug,
            "--since",
            day(world.changed_at),
            "--until",
            day(world.changed_at + timedelta(minutes=30)),  # the calls may pass midnight
            "--out",
            str(out),
            "--letters",
        ).output
    assert "20 caller number(s)" in text and "20 letter(s) sent by SMTP" in text
    assert len(mailbox.messages) == 20
    csv = out.read_text()
    assert world.tenant.name not in csv and world.number not in csv
    with session_factory() as s:
        unsent = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "affected_caller_letter", OutboxMessage.sent_at.is_(None)
            )
        )
        assert list(unsent) == []


def test_containment_commands(
    run: Invoke, world: Takeover, session_factory: sessionmaker[Session]
) -> None:
    assert "suspended 1" in run("incident", "suspend", world.victim.email).output
    assert (
        "suspended 2, already suspended 1"
        in run("incident", "suspend", "--tenant", world.tenant.slug).output
    )
    run("incident", "suspend", ok=False)
    reset = run("incident", "reset-passwords", "--tenant", world.tenant.slug, "--yes").output
    assert "3 account(s) must set a new password" in reset
    with session_factory() as s:
        victim = s.get(User, world.victim.id)
        assert victim is not None and victim.status == "suspended" and victim.must_change_password


def test_register_create_list_pts_export(run: Invoke, world: Takeover, tmp_path: Path) -> None:
    made = run(
        "incident",
        "register",
        "create",
        "--title",
        "Intrång",
        "--discovered",
        "2026-07-07T09:00",
        "--nature",
        "confidentiality",
        "--data",
        "samtalslistor",
        "--tenant",
        world.tenant.slug,
    ).output
    number = made.split()[1]
    assert "PTS open" not in run("incident", "register", "list").output  # long overdue by now
    run(
        "incident",
        "register",
        "pts",
        number,
        "--reported",
        "2026-07-07T20:00",
        "--reference",
        "P-1",
    )
    assert "PTS done" in run("incident", "register", "list").output
    path = tmp_path / "incident.md"
    run("incident", "register", "export", number, "--out", str(path))
    document = path.read_text()
    assert "Intrång" in document and world.tenant.name in document and "P-1" in document
    run("incident", "register", "export", "999", ok=False)


def test_recovery_and_callbacks_on_a_company_without_losses(run: Invoke, world: Takeover) -> None:
    board = json.loads(run("incident", "recovery", "--tenant", world.tenant.slug, "--json").output)
    assert board["rows"][-1] == {
        "kind": "total",
        "lost": 0,
        "restored": 0,
        "regenerated": 0,
        "rerecorded": 0,
        "missing": 0,
    }
    listed = run("incident", "callbacks", "--tenant", world.tenant.slug).output
    assert listed.strip() == "user,extension,caller,received,seconds,heard"
