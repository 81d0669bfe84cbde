"""Engine benchmark: simulated inbound calls per second on one core.

Path of every call: number → welcome message → IVR menu → sub-menu → user (no answer) →
no-answer forwarding to a colleague (no answer) → the colleague's voicemail (default greeting,
tone) → the caller speaks 8 s and hangs up. Each call runs through the simulator, so the figure
includes the policy check of every leg, the call-log legs and recording the trace.

    .venv/bin/python benchmarks/engine_bench.py [--calls N] [--rounds R]

Best and median of several short rounds are printed, by the wall clock and per CPU-second of
this thread: on a shared machine the wall clock also counts time spent waiting for the CPU,
the thread's CPU time does not.
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


def run(calls: int) -> tuple[float, float]:
    """(calls per wall-clock second, calls per CPU second) over one round of `calls`."""
    snapshot = sample_snapshot()
    trace = simulate(snapshot, SCRIPT)  # warms the snapshot's indexes and policy verdicts
    kinds = [step.kind for step in trace.steps]
    assert trace.disposition == "voicemail" and kinds.count("ring") == 2, kinds
    wall, cpu = time.perf_counter(), time.thread_time()
    for n in range(calls):
        simulate(snapshot, SCRIPT, call_id=f"c{n}")
    return calls / (time.perf_counter() - wall), calls / (time.thread_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5_000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rounds = [run(args.calls) for _ in range(args.rounds)]
    wall = sorted(rate for rate, _ in rounds)
    cpu = sorted(rate for _, rate in rounds)
    middle = len(rounds) // 2
    print(
        f"engine, one core ({args.rounds} rounds of {args.calls:,} calls):\n"
        f"  {wall[-1]:,.0f} calls/s wall-clock best, {wall[middle]:,.0f} median\n"
        f"  {cpu[-1]:,.0f} calls per CPU-second best, {cpu[middle]:,.0f} median"
    )


if __name__ == "__main__":
    main()
