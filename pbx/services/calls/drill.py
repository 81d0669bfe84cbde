"""Test calls through every path of a company ("Provringa" for everything at once): each
number once without a key, and every key of every IVR menu reached from a number, plus its
timeout. Used by the backup restore drill to prove a restored company still sounds right.

Nothing is written: the calls are simulated on the snapshot (phones answer). A path fails
when the caller would hear a missing message, a leg is refused, or the call cannot end
where it should (unreachable, routing loop, event limit).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pbx.engine import DialplanSnapshot, ToIvr, Trace
from pbx.engine.events import Dtmf, Timer
from pbx.engine.simulator import CallerEvent, CallScript, simulate
from pbx.services.calls.dialplan import build_snapshot
from storage.blobs import BlobStore

DRILL_CALLER = "+46701999999"
TIMEOUT = "t"  # in a path's keys: the caller waits for the menu's timeout
FAILED = frozenset({"unreachable", "routing_loop", "step_limit", "unknown_number", "unfinished"})


@dataclass(frozen=True)
class PathResult:
    number: str
    keys: str  # the keys pressed, "t" where the caller waited for a menu's timeout
    via: str  # "number", or "menu <name> key <k>" / "menu <name> timeout"
    disposition: str
    missing: tuple[str, ...] = ()  # names of slots whose audio is missing
    refused: tuple[str, ...] = ()  # "<to>: <reason>"

    @property
    def ok(self) -> bool:
        return not self.missing and not self.refused and self.disposition not in FAILED


@dataclass
class DrillReport:
    tenant_id: int
    paths: list[PathResult] = field(default_factory=list)
    unreached_menus: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(path.ok for path in self.paths)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "ok": self.ok,
            "paths": [{**asdict(p), "ok": p.ok} for p in self.paths],
            "unreached_menus": self.unreached_menus,
        }


def test_call_every_path(session: Session, blobs: BlobStore, tenant_id: int) -> DrillReport:
    """Call every number and every IVR key (and timeout) of the company."""
    snap = build_snapshot(session, blobs, tenant_id)
    report = DrillReport(tenant_id)
    reached: set[str] = set()
    for number in snap.numbers:
        if isinstance(number.destination, ToIvr):
            report.paths += _menus(snap, number.e164, number.destination.menu_id, reached)
        else:
            report.paths.append(_call(snap, number.e164, "", "number"))
    report.unreached_menus = [m.name for m in snap.ivr_menus if m.menu_id not in reached]
    return report


def _menus(snap: DialplanSnapshot, e164: str, first: str, reached: set[str]) -> list[PathResult]:
    """Breadth first through the menus reached from one number, each menu once."""
    results: list[PathResult] = []
    todo: deque[tuple[str, str]] = deque([(first, "")])
    seen: set[str] = set()
    while todo:
        menu_id, keys = todo.popleft()
        menu = snap.menu_index.get(menu_id)
        if menu is None or menu_id in seen:
            continue
        seen.add(menu_id)
        reached.add(menu_id)
        choices = [(o.digit, o.destination) for o in menu.options]
        choices.append((TIMEOUT, menu.timeout_destination))
        for key, destination in choices:
            via = f"menu {menu.name} " + ("timeout" if key == TIMEOUT else f"key {key}")
            results.append(_call(snap, e164, keys + key, via))
            if isinstance(destination, ToIvr):
                todo.append((destination.menu_id, keys + key))
    return results


def _events(keys: str) -> tuple[CallerEvent, ...]:
    return tuple(Timer() if key == TIMEOUT else Dtmf(key) for key in keys)


def _call(snap: DialplanSnapshot, e164: str, keys: str, via: str) -> PathResult:
    script = CallScript(DRILL_CALLER, e164, _events(keys))
    trace = simulate(snap, script, call_id=f"drill {e164} {keys}")
    return PathResult(e164, keys, via, trace.disposition, *_problems(trace))


def _problems(trace: Trace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = (s.slot_name or s.slot_id or "?" for s in trace.steps if s.audio == "missing")
    refused = tuple(f"{s.to}: {s.reason}" for s in trace.steps if s.kind == "refused")
    return tuple(dict.fromkeys(names)), refused
