"""Fraud scan and containment on both databases: the attacker's changes are reverted to the
last known-good values and nothing else moves; alerts are stored once; the containment
commands (suspend, reset, revert in one action) are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied
from pbx.incident import alerts, containment, forwarding_changes, response
from pbx.incident.scan import scan
from pbx.services.audit.log import verify_chain
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.fraud.reasons import Reason
from pbx.services.routing import forwarding
from storage.models import AuditEvent, ForwardingBlock, FraudAlert, OutboxMessage, User
from tests.integration.incident_world import (
    ATTACKER_IP,
    FRAUD_NUMBER,
    Takeover,
    build_takeover,
    forwarded_legs,
    write_traffic,
)
from tests.web.accounts import accounts_config

OPERATOR = Actor(None, "operator@test", "operator")


def rules_of(session: Session, user: User) -> dict[str, dict[str, object] | None]:
    return {
        k: forwarding.rule_state(forwarding.find_rule(session, user.id, k))
        for k in forwarding.KINDS
    }


@pytest.fixture
def world(session: Session) -> Takeover:
    return build_takeover(session)


def attack_traffic(session: Session, world: Takeover, count: int = 20) -> None:
    write_traffic(
        session, forwarded_legs(world, count, start=world.changed_at + timedelta(minutes=1))
    )


def test_scan_contains_above_the_hard_cap_and_reverts_exactly_the_attackers_changes(
    session: Session, world: Takeover
) -> None:
    victim_before = world.before_attack
    victim_now = rules_of(session, world.victim)
    colleague_before = rules_of(session, world.colleague)
    bystander_before = rules_of(session, world.bystander)
    token_before = world.victim.session_token
    attack_traffic(session, world)

    result = scan(
        session,
        OPERATOR,
        world.changed_at - timedelta(hours=1),
        world.changed_at + timedelta(hours=3),
        config=accounts_config(),
    )

    rules_hit = {a.rule for a in result.new_alerts}
    assert {"intl_legs_user_hour", "forwarding_change_traffic"} <= rules_hit
    (done,) = result.contained
    assert done.user_id == world.victim.id
    after = rules_of(session, world.victim)
    assert after["unconditional"] is None  # there was none before the attack
    assert after["busy"] == {**victim_before["busy"], "active": False}  # own mobile, suspended
    assert after["no_answer"] == victim_now["no_answer"]  # the admin's change stays
    assert victim_now["no_answer"]["destination"] == world.colleague.extension  # type: ignore[index]
    assert rules_of(session, world.colleague) == colleague_before
    assert rules_of(session, world.bystander) == bystander_before  # same number, other company
    session.refresh(world.victim)
    assert world.victim.session_token != token_before and world.victim.must_change_password
    assert done.reset_link and done.admins_told == 1
    told = list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "fraud_contained"))
    )
    assert [m.to_address for m in told] == [world.admin.email]
    # the forwarding kinds in words in both languages, never the code
    body = told[0].body
    assert "vid upptaget: " in body and "when busy: " in body and "(busy:" not in body
    assert "unconditional" not in body and "no_answer" not in body
    # why, in words in both languages: the rule's code stays in the audit data and the block
    contained = session.scalars(select(AuditEvent).where(AuditEvent.action == "fraud.contained"))
    (stored,) = [e.new["reason"] for e in contained]
    assert stored.startswith(("intl_legs_user_hour: 20 legs", "forwarding_change_traffic: 20"))
    block = session.scalar(select(ForwardingBlock).where(ForwardingBlock.user_id == done.user_id))
    assert block is not None and block.reason == stored
    why = Reason.parse(stored)
    assert why is not None and all(f": {sentence}.\n" in body for sentence in why.sentences())
    assert any(
        sentence in body
        for sentence in (
            "20 utlandssamtal på en timme från en användare (gränsen är 15)",
            "20 vidarekopplade samtal efter att vidarekopplingen ändrats från en ny IP-adress "
            "eller utanför kontorstid (gränsen är 10)",
        )
    )
    assert "intl_legs" not in body and "forwarding_change" not in body and "legs" not in body
    assert all(a.status == "contained" for a in result.new_alerts if a.hard_cap)
    assert verify_chain(session) == []


def test_lifting_the_block_switches_back_exactly_what_it_switched_off(
    session: Session, world: Takeover
) -> None:
    attack_traffic(session, world)
    scan(
        session,
        OPERATOR,
        world.changed_at - timedelta(hours=1),
        world.changed_at + timedelta(hours=3),
    )
    block = session.scalar(
        select(ForwardingBlock).where(ForwardingBlock.user_id == world.victim.id)
    )
    assert block is not None and block.rules_off == ["busy"]
    assert containment.lift_block(session, OPERATOR, world.victim) == ["busy"]
    busy = rules_of(session, world.victim)["busy"]
    assert busy is not None and busy["destination"] == world.victim.mobile and busy["active"]


def test_a_rescan_stores_nothing_twice_and_contains_nobody_again(
    session: Session, world: Takeover
) -> None:
    attack_traffic(session, world)
    window = (world.changed_at - timedelta(hours=1), world.changed_at + timedelta(hours=3))
    first = scan(session, OPERATOR, *window)
    count = session.query(FraudAlert).count()
    again = scan(session, OPERATOR, *window)
    assert again.new_alerts == [] and again.contained == []
    assert session.query(FraudAlert).count() == count and len(first.contained) == 1


def test_below_the_hard_cap_only_alerts(session: Session, world: Takeover) -> None:
    # Six legs in the first minute of the change's clock hour: one hourly bucket, whatever
    # the time of day the test runs.
    hour = world.changed_at.replace(minute=0, second=0, microsecond=0)
    step = timedelta(seconds=10)
    write_traffic(session, forwarded_legs(world, 6, start=hour + step, step=step))
    result = scan(
        session,
        OPERATOR,
        world.changed_at - timedelta(hours=1),
        world.changed_at + timedelta(hours=3),
        contain=True,
    )
    assert result.contained == [] and result.new_alerts
    assert rules_of(session, world.victim)["unconditional"]["destination"] == FRAUD_NUMBER  # type: ignore[index]
    alert = next(a for a in result.new_alerts if a.rule == "intl_legs_user_hour")
    done = alerts.contain(session, None, OPERATOR, alert.id)
    assert [c.user_id for c in done] == [world.victim.id]
    assert rules_of(session, world.victim)["unconditional"] is None


def test_forwarding_changes_are_listed_with_actor_ip_old_and_new(
    session: Session, world: Takeover
) -> None:
    rows = forwarding_changes.list_changes(
        session,
        world.changed_at - timedelta(minutes=1),
        world.changed_at + timedelta(minutes=5),
        tenant_ids=[world.tenant.id],
        ip=ATTACKER_IP,
    )
    assert [(r.kind, r.actor, r.ip) for r in rows] == [
        ("unconditional", world.victim.email, ATTACKER_IP),
        ("busy", world.victim.email, ATTACKER_IP),
    ]
    assert rows[0].old is None and rows[0].destination == FRAUD_NUMBER
    assert rows[1].old["destination"] == world.victim.mobile  # type: ignore[index]


def test_revert_in_one_action_skips_rules_changed_again_since(
    session: Session, world: Takeover
) -> None:
    before = rules_of(session, world.victim)
    rows = forwarding_changes.list_changes(
        session,
        world.changed_at - timedelta(minutes=1),
        world.changed_at + timedelta(minutes=5),
        ip=ATTACKER_IP,
    )
    # The owner fixes "busy" themselves before the operator gets to it.
    owner = Actor(world.victim.id, world.victim.email, "user", world.tenant.id, "192.0.2.77")
    forwarding.set_forwarding(
        session, owner, world.victim, kind="busy", destination=world.colleague.extension or ""
    )
    report = response.revert_forwarding(session, OPERATOR, [r.event_id for r in rows])
    assert [r["kind"] for r in report.reverted] == ["unconditional"]
    assert [r["kind"] for r in report.skipped] == ["busy"]
    after = rules_of(session, world.victim)
    assert after["unconditional"] is None and after["no_answer"] == before["no_answer"]
    assert after["busy"]["destination"] == world.colleague.extension  # type: ignore[index]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("incident.%")))
    assert list(actions) == ["incident.forwarding_revert"]


def test_suspend_a_list_and_a_whole_company_and_reset_passwords(
    session: Session, world: Takeover
) -> None:
    report = response.suspend_accounts(session, OPERATOR, [world.victim.email, "nobody@example.se"])
    assert report.suspended == [world.victim.email] and report.unknown == ["nobody@example.se"]
    whole = response.suspend_tenant(session, OPERATOR, world.tenant)
    assert world.victim.email in whole.already and len(whole.suspended) == 2
    links = response.reset_passwords(session, accounts_config(), OPERATOR, world.tenant)
    assert {link.email for link in links} == {
        world.admin.email,
        world.victim.email,
        world.colleague.email,
    }
    everyone = response.reset_passwords(session, accounts_config(), OPERATOR, None)
    assert world.bystander.email in {link.email for link in everyone}
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "incident.suspend_accounts",
        "incident.suspend_tenant",
        "incident.reset_passwords",
        "user.suspend",
        "password.forced_reset",
    } <= actions


def test_only_operators_use_the_containment_commands(session: Session, world: Takeover) -> None:
    admin = world.office_admin()
    with pytest.raises(PermissionDenied):
        response.suspend_tenant(session, admin, world.tenant)
    with pytest.raises(PermissionDenied):
        alerts.list_alerts(session, admin)
    assert SYSTEM.is_operator
