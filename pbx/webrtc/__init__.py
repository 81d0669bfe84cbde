"""The browser softphone's real calls: WebRTC (aiortc, Opus) between a page and the switchboard.

`media` plays prompts into an outgoing track and records the browser's track; `ice` keeps
candidates to the configured addresses; `peer` is one peer connection (audio both ways, keys
over a DataChannel); `call` runs a call's events through the one driver; `hub` owns the event
loop the peers live on.
"""
