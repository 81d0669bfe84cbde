"""The engine's call state as JSON and back, so a live call survives between the phone's
requests (any web worker, or the command line, takes the next event).

Phases are frozen dataclasses of `pbx.engine.states` (a phase may hold another, like
`ServiceRecording.menu`); they are written as {"type": name, field: value, …}. Only classes
of the engine's state and dialplan modules are ever built back: the JSON names a class, it
cannot make us construct anything else.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from pbx.engine import dialplan, states
from pbx.engine.states import CallState

_CLASSES: dict[str, type[Any]] = {
    name: cls
    for module in (states, dialplan)
    for name, cls in vars(module).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}


class CorruptCallState(ValueError):
    """The stored state names something that is not an engine state."""


def encode_state(state: CallState) -> dict[str, Any]:
    encoded: dict[str, Any] = _encode(state._asdict())
    return encoded


def decode_state(data: dict[str, Any]) -> CallState:
    fields = {key: _decode(value) for key, value in data.items()}
    try:
        return CallState(**fields)
    except TypeError as exc:
        raise CorruptCallState(str(exc)) from None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):  # the call's local start time
        return {"type": "datetime", "iso": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **body}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "datetime":
        try:
            return datetime.fromisoformat(str(value.get("iso")))
        except ValueError:
            raise CorruptCallState("bad local time") from None
    if isinstance(value, dict) and "type" in value:
        cls = _CLASSES.get(str(value["type"]))
        if cls is None:
            raise CorruptCallState(f"unknown call phase {value['type']!r}")
        fields = {key: _decode(item) for key, item in value.items() if key != "type"}
        return cls(**fields)
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    return value
