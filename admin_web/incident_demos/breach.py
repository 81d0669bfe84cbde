"""`pbx demo breach`: the first notice replayed on the demo companies.

Weak passwords are refused by the policy and guessing is throttled, but a stolen password
signs in two accounts (Bergström Bygg, Fjällvind Konsult) from the attacker's address. The
destination guard refuses forwarding to premium and satellite numbers and to countries a
company has not allowed; where the company allows the country (Bergström allows Finland) the
guard has nothing to refuse — as if it were off — and fraud traffic runs through the call
engine until the call-time caps stop it. The fraud scan raises alerts and contains the
account; the operator resets every customer's password, reverts the attacker's remaining
forwarding changes in one action, records the incident, and exports the affected callers of
2–7 July (the notice's window, on the demo history) with a letter to each.
"""

from __future__ import annotations

from pathlib import Path

from admin_web.incident_demos import breach_steps as steps
from admin_web.incident_demos.breach_context import BreachContext
from admin_web.incident_demos.runner import DemoRun, Echo, demo_data
from admin_web.runtime import Runtime


def run_breach(
    runtime: Runtime,
    out_dir: Path,
    echo: Echo,
    *,
    fraud_calls: int = 20,
    calls_per_day: int = 40,
    seed: int = 7,
) -> DemoRun:
    ctx = BreachContext(runtime, out_dir, fraud_calls, calls_per_day)
    run = DemoRun("pbx demo breach", echo)
    with run.step("Demo companies and call history") as figures:
        demo_data(runtime, calls_per_day, figures, seed)
    for title, action in (
        ("Weak passwords are refused by the policy", steps.weak_passwords),
        ("Guessing is throttled; a stolen password signs in", steps.takeover),
        ("The guard refuses premium, satellite and unallowed countries", steps.guard_refuses),
        ("Guard off (country allowed): forwarding abroad is saved", steps.guard_allows),
        ("Fraud traffic through the call engine", steps.fraud_traffic),
        ("Fraud scan: alerts and automatic containment", steps.fraud_scan),
        ("All switchboard customers' passwords reset", steps.reset_all),
        ("Attacker's forwarding changes listed and reverted in one action", steps.revert_rest),
        ("Incident recorded (PTS 24 h, companies 72 h)", steps.record_incident),
        ("Affected callers of 2–7 July exported, letters queued", steps.affected_callers),
        ("Audit log intact", steps.audit_intact),
    ):
        with run.step(title) as figures, runtime.unit_of_work() as session:
            action(ctx, session, figures)
    return run
