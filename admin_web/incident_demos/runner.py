"""Running a demo: numbered steps, each in its own unit of work, printed as they finish,
and a summary table at the end. A step that raises or reports failure is marked FAILED with
the reason; later steps still run when they can, and the run as a whole fails."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from admin_web.runtime import Runtime
from fixtures.demo import load_demo
from storage.models import CallLogEntry, Tenant

Echo = Callable[[str], None]


class StepFailed(Exception):
    """A step's own check did not hold (the message says which)."""


@dataclass
class Step:
    number: int
    title: str
    ok: bool = True
    figures: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        shown = ", ".join(f"{k}: {v}" for k, v in self.figures.items())
        mark = "ok" if self.ok else f"FAILED — {self.error}"
        return f"[{self.number}] {self.title}: {mark}" + (f"\n      {shown}" if shown else "")


@dataclass
class DemoRun:
    name: str
    echo: Echo
    steps: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, title: str) -> Iterator[dict[str, Any]]:
        """`with run.step("…") as figures:` — fill `figures`; raise StepFailed to fail."""
        current = Step(len(self.steps) + 1, title)
        self.steps.append(current)
        started = time.perf_counter()
        try:
            yield current.figures
        except StepFailed as exc:
            current.ok, current.error = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - a demo reports every failure and goes on
            current.ok, current.error = False, f"{type(exc).__name__}: {exc}"
            self.echo(traceback.format_exc(limit=3))
        current.seconds = time.perf_counter() - started
        self.echo(current.line())

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def summary(self) -> str:
        width = max((len(s.title) for s in self.steps), default=10)
        lines = [
            f"{self.name}: summary",
            f"{'#':>2}  {'step':<{width}}  {'result':<6}  {'seconds':>7}  key figures",
        ]
        for s in self.steps:
            key = ", ".join(f"{k}={v}" for k, v in list(s.figures.items())[:3])
            lines.append(
                f"{s.number:>2}  {s.title:<{width}}  {'ok' if s.ok else 'FAILED':<6}  "
                f"{s.seconds:>7.2f}  {key}"
            )
        failed = sum(not s.ok for s in self.steps)
        lines.append(f"{len(self.steps) - failed} of {len(self.steps)} steps ok")
        return "\n".join(lines)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def demo_data(
    runtime: Runtime, calls_per_day: int, figures: dict[str, Any], seed: int = 7
) -> None:
    """Load the demo companies when the database has none (in their own units of work);
    `seed` fixes their call history, so a run can be repeated exactly."""
    with runtime.unit_of_work() as s:
        empty = s.scalar(select(func.count()).select_from(Tenant)) == 0
    if empty:
        load_demo(runtime, calls_per_day=calls_per_day, seed=seed)
    with runtime.unit_of_work() as s:
        figures["companies"] = s.scalar(select(func.count()).select_from(Tenant))
        figures["call-log rows"] = s.scalar(select(func.count()).select_from(CallLogEntry))
    check(bool(figures["call-log rows"]), "the demo companies have no call history")
