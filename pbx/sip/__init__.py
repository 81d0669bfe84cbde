"""The pure protocol layers of the SIP/RTP front: SIP messages, SDP, RTP, RFC 4733 keys,
G.711, digest authentication and RFC 3261 timer values.

Nothing here opens a socket, reads a clock or touches asyncio: time comes in as arguments,
so every layer is unit-tested on bytes alone. The I/O edge lives in `pbx.phone`.
"""
