"""Do not disturb from the phone: a user dials the feature code (*76) from their own
extension to switch do-not-disturb on, and again to switch it off. The engine says which
(`SetPresence`, stored by the driver), plays the confirmation and hangs up."""

from __future__ import annotations

from pbx.engine.actions import SetPresence
from pbx.engine.common import Result, answered, finish, play
from pbx.engine.dialplan import DialplanSnapshot, User
from pbx.engine.states import CallState

DND_CODE = "*76"


def toggle_dnd(snap: DialplanSnapshot, st: CallState, user: User) -> Result:
    dnd = not user.dnd
    st = answered(st.evolve(direction="internal"))
    said = play(snap, snap.prompts.dnd_on if dnd else snap.prompts.dnd_off, required=True)
    return finish(
        snap,
        st,
        "answered",
        "dnd_on" if dnd else "dnd_off",
        [SetPresence(user.ext, user.user_id, dnd), *said],
    )
