"""Provringa: one test call to a company number, keys pressed as given, through the engine.

The call runs on the company's dialplan snapshot as it is now (`dialplan.build_snapshot`,
with every message's audio checked against the store), so the trace shows exactly what a
caller would hear, missing messages included: that is how an administrator checks a
recovery. Nothing is written: no call-log legs, no voicemail, no audit entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pbx.engine import Trace
from pbx.errors import NotFound, ValidationError
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.simulated import CallRequest, local_time_of, simulate_request
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_scoped
from storage.blobs import BlobStore
from storage.models import PhoneNumber, Tenant, utcnow

# A number from PTS's range reserved for fiction (070-174 06 05 … 99): never a real caller.
TEST_CALLER = "+46701740605"
PHONES = ("answer", "busy", "no_answer")
MAX_KEYS = 32
_KEYS = re.compile(r"^[0-9*#]*$")


@dataclass(frozen=True)
class CallCheck:
    number: PhoneNumber
    keys: str
    phones: str
    trace: Trace
    names: dict[str, str]  # extension → user name, for reading the trace
    at: datetime | None = None  # the local time the call was tried as (opening hours)

    @property
    def missing(self) -> list[str]:
        """Names of the messages the caller would not hear (their audio is missing)."""
        return [s.slot_name or s.slot_id or "" for s in self.trace.steps if s.audio == "missing"]


def run_test_call(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    tenant: Tenant,
    number_id: object,
    keys: str = "",
    phones: str = "answer",
    at: datetime | None = None,
) -> CallCheck:
    """Call one of the company's numbers; `phones` says what every extension does when it
    rings (answer, busy, no_answer), to walk the forwarding and voicemail paths too; `at`
    is the local (Stockholm) time to try it as ("Provringa som om det vore …"; None: now)."""
    number = number_to_call(session, actor, tenant, number_id)
    keys = _keys(keys)
    if phones not in PHONES:
        raise ValidationError("phones", "choose what the phones do")
    snapshot = build_snapshot(session, blobs, tenant.id)
    extensions = frozenset(user.ext for user in snapshot.users)
    request = CallRequest(
        caller=TEST_CALLER,
        dialled=number.e164,
        dtmf=keys,
        busy=extensions if phones == "busy" else frozenset(),
        no_answer=extensions if phones == "no_answer" else frozenset(),
        local_time=at or local_time_of(utcnow()),
    )
    trace = simulate_request(session, snapshot, request, call_id="provringa")
    names = {user.ext: user.name for user in snapshot.users}
    return CallCheck(number, keys, phones, trace, names, request.local_time)


def number_to_call(
    session: Session, actor: Actor, tenant: Tenant, number_id: object
) -> PhoneNumber:
    """One of the company's numbers, for its administrators (a test call, "Ring upp");
    another company's number is NotFound."""
    actor.require_admin(tenant.id)
    number = get_scoped(session, actor, PhoneNumber, number_id)
    if number.tenant_id != tenant.id:
        raise NotFound(f"PhoneNumber {number_id} not found")
    return number


def _keys(text: str) -> str:
    keys = "".join(text.split())
    if len(keys) > MAX_KEYS or not _KEYS.match(keys):
        raise ValidationError("keys", f"keys are 0–9, * and #, at most {MAX_KEYS}")
    return keys
