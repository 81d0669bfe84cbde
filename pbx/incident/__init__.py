"""Incident response: fraud detection and containment, affected-caller notification, lost
voicemail call-back lists, the recovery dashboard, and the incident register.

`thresholds` and `rules` are pure (records and thresholds in, hits out); the other modules
are services in the project's usual sense: they take the caller's session, never commit,
and audit what they change.
"""
