"""IVR menus: the prompt, one digit per choice, '*' repeats the menu, an invalid-digit
prompt up to the retry limit, and the timeout (default) destination."""

from __future__ import annotations

from pbx.engine.actions import Action, StartTimer
from pbx.engine.common import Result, answered_in, finish, memoised, play, unreachable
from pbx.engine.dialplan import DialplanSnapshot, IvrMenu
from pbx.engine.events import Dtmf, Event, Hangup, Timer
from pbx.engine.states import CallState, InMenu, Routing


def enter_menu(snap: DialplanSnapshot, st: CallState, menu_id: str) -> Result:
    menu = snap.menu_index.get(menu_id)
    if menu is None:
        return unreachable(snap, st, "unknown_menu")
    return answered_in(st, InMenu(menu_id)), _prompt(snap, menu)


def _prompt(snap: DialplanSnapshot, menu: IvrMenu) -> list[Action]:
    return memoised(
        snap,
        ("menu", menu.menu_id),
        lambda: [*play(snap, menu.prompt_slot, required=True), StartTimer(menu.timeout)],
    )


def on_menu(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, InMenu)
    menu = snap.menu_index[phase.menu_id]
    if isinstance(event, Dtmf):
        if event.digit == "*":
            return _retry(snap, st, menu, phase, invalid=False)
        destination = menu.option(event.digit)
        if destination is None:
            return _retry(snap, st, menu, phase, invalid=True)
        return st.moved(Routing(destination, "digit")), []
    if isinstance(event, Timer):
        return st.moved(Routing(menu.timeout_destination, "timeout")), []
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned")
    return st, []


def _retry(
    snap: DialplanSnapshot, st: CallState, menu: IvrMenu, phase: InMenu, invalid: bool
) -> Result:
    """An invalid digit or a '*' repeat: play the menu again, until the retry limit."""
    attempts = phase.attempts + 1
    if attempts > menu.max_retries:
        return st.moved(Routing(menu.timeout_destination, "retry_limit")), []
    actions = play(snap, menu.invalid_slot) if invalid else []
    actions += _prompt(snap, menu)
    return st.moved(InMenu(menu.menu_id, attempts)), actions
