"""The call engine: a pure `step(snapshot, state, event) -> (state, actions)`, the snapshot
types it reads, save-time validation, and a simulator around it."""

from pbx.engine.callback import start_callback
from pbx.engine.dialplan import (
    Destination,
    DialplanSnapshot,
    ForwardingRule,
    ForwardKind,
    FraudGuard,
    IvrMenu,
    IvrOption,
    Limits,
    MessageSlot,
    NumberRoute,
    Queue,
    ServiceConfig,
    SystemPrompts,
    ToExtension,
    ToExternal,
    ToHangup,
    ToIvr,
    ToQueue,
    ToVoicemail,
    User,
    VoicemailBox,
)
from pbx.engine.errors import EngineError, InvalidDialplan, InvalidDtmf, UnknownNumber
from pbx.engine.events import parse_dtmf
from pbx.engine.simulator import (
    CallScript,
    Trace,
    TraceStep,
    check_script,
    script_events,
    simulate,
    simulate_callback,
)
from pbx.engine.states import CallState, new_call
from pbx.engine.step import step
from pbx.engine.validation import DialplanProblem, check_dialplan, validate_dialplan

__all__ = [
    "CallScript",
    "CallState",
    "Destination",
    "DialplanProblem",
    "DialplanSnapshot",
    "EngineError",
    "ForwardKind",
    "ForwardingRule",
    "FraudGuard",
    "InvalidDialplan",
    "InvalidDtmf",
    "IvrMenu",
    "IvrOption",
    "Limits",
    "MessageSlot",
    "NumberRoute",
    "Queue",
    "ServiceConfig",
    "SystemPrompts",
    "ToExtension",
    "ToExternal",
    "ToHangup",
    "ToIvr",
    "ToQueue",
    "ToVoicemail",
    "Trace",
    "TraceStep",
    "UnknownNumber",
    "User",
    "VoicemailBox",
    "check_dialplan",
    "check_script",
    "new_call",
    "parse_dtmf",
    "script_events",
    "simulate",
    "simulate_callback",
    "start_callback",
    "step",
    "validate_dialplan",
]
