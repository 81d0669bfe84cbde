"""The I/O edge of the SIP/RTP front (asyncio, standard library and numpy only).

`transport.SipTransport` listens for SIP on UDP and TCP and hands parsed messages to a
handler; `media.MediaEngine` owns the RTP endpoints of a worker and the one media tick that
paces every call's audio. The protocol itself is pure and lives in `pbx.sip`.
"""
