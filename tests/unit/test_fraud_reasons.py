"""Why the fraud rules acted, in words (issue 16 item 7): every rule the rules can produce
has a sentence in both languages, and the stored form keeps the rule's code."""

from __future__ import annotations

from datetime import timedelta

from pbx.policies import fraud_rules as rules
from pbx.policies.fraud_thresholds import DEFAULTS, Limit, from_mapping
from pbx.services.fraud.reasons import SENTENCES, Reason
from tests.unit.test_incident_rules import FINNISH, HOME, T0, change, legs, logins


def every_rule_hit() -> set[str]:
    """The rules over a history that crosses every limit (all set to one)."""
    low = from_mapping({f: {"alert": 1} for f, v in vars(DEFAULTS).items() if isinstance(v, Limit)})
    after = legs(3, FINNISH, start=T0 + timedelta(minutes=5))
    changed = change(T0, "203.0.113.9")  # from an IP never seen before
    hits = rules.evaluate(after, [changed], logins(2), [], HOME, low)
    return {hit.rule for hit in hits}


def test_every_rule_the_rules_produce_has_a_sentence() -> None:
    produced = every_rule_hit()
    assert len(produced) == 8
    assert sorted(produced - set(SENTENCES)) == []
    for sv, en in SENTENCES.values():
        assert "%(value)s" in sv and "%(limit)s" in sv and "%(value)s" in en and "%(limit)s" in en


def test_the_stored_form_keeps_the_code_and_the_sentence_has_none() -> None:
    reason = Reason("intl_legs_user_hour", 20.0, "legs", 15.0)
    assert str(reason) == "intl_legs_user_hour: 20 legs (limit 15)"
    assert Reason.parse(str(reason)) == reason
    assert Reason.parse("fraud cap: international legs this hour 16 ≥ 15") is None
    assert reason.sentences() == (
        "20 utlandssamtal på en timme från en användare (gränsen är 15)",
        "20 calls abroad in one hour from one user (the limit is 15)",
    )
    cost = Reason("cost_tenant_day", 1234567.89, "SEK", 10000.0)
    assert Reason.parse(str(cost)) is not None
    assert cost.sentences()[0].startswith("samtal för omkring 1234568 kronor på ett dygn")
    for sv, en in (Reason(rule, 3, "legs", 2).sentences() for rule in SENTENCES):
        assert "_" not in sv + en and "%" not in sv + en
