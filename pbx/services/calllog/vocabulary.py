"""The call log's words, once: directions and dispositions (outcomes) as stored, and their
labels as English message ids (the site translates them through its catalogue; Swedish is
the default). The writer (`calllog.rows`, through the one driver), the page, its filter, the
export and the test-call page all use these; a test checks every word has a label in both
languages."""

from __future__ import annotations

from storage.models.calllog import DIRECTIONS, DISPOSITIONS

__all__ = ["DIRECTIONS", "DIRECTION_LABELS", "DISPOSITIONS", "DISPOSITION_LABELS"]

DISPOSITION_LABELS: dict[str, str] = {
    "answered": "Answered",
    "no_answer": "Not answered",
    "busy": "Busy",
    "voicemail": "Voicemail",
    "refused": "Refused",
    "abandoned": "Caller hung up",
    "failed": "Failed",
}
DIRECTION_LABELS: dict[str, str] = {
    "inbound": "Incoming",
    "outbound": "Outgoing",
    "internal": "Internal",
    "forwarded": "Forwarded",
}
