"""Engine benchmark: simulated inbound calls per second on one core.

Path of every call: number → welcome message → IVR menu → sub-menu → user (no answer) →
no-answer forwarding to a colleague (no answer) → voicemail (personal greeting) → the caller
speaks 8 s and hangs up. Each call runs through the simulator, so the figure includes building
the trace and the call-log legs.

    .venv/bin/python benchmarks/engine_bench.py [--calls N] [--rounds R]

Best and median of several short rounds are printed: on a shared machine the best round is
the figure least disturbed by other processes (as `timeit` reports).
"""

from __future__ import annotations

import argparse
import time

from pbx.engine.sample import CALLER, MAIN_NUMBER, sample_snapshot
from pbx.engine.simulator import CallScript, script_events, simulate

# main menu 1 → sales menu 1 → Anna (201) does not answer → her no-answer forwarding to Bo
# (202), who does not answer either → Bo's voicemail (default greeting) → 8 s message.
SCRIPT = CallScript(
    CALLER, MAIN_NUMBER, script_events("11", say=8.0), no_answer=frozenset({"201", "202"})
)


def run(calls: int) -> float:
    """Calls per second over one round of `calls` simulated calls."""
    snapshot = sample_snapshot()
    trace = simulate(snapshot, SCRIPT)  # warms the snapshot's indexes and policy verdicts
    kinds = [step.kind for step in trace.steps]
    assert trace.disposition == "voicemail" and kinds.count("ring") == 2, kinds
    started = time.perf_counter()
    for n in range(calls):
        simulate(snapshot, SCRIPT, call_id=f"c{n}")
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5_000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rates = sorted(run(args.calls) for _ in range(args.rounds))
    best, median = rates[-1], rates[len(rates) // 2]
    print(
        f"engine: {best:,.0f} simulated inbound calls/s best, {median:,.0f} median "
        f"({args.rounds} rounds of {args.calls:,} calls, one core)"
    )


if __name__ == "__main__":
    main()
