"""The call log's words, once: directions and dispositions (outcomes) as stored, and their
labels as English message ids (the site translates them through its catalogue; Swedish is
the default). The writer (`calllog.rows`, through the one driver), the page, its filter, the
export and the test-call page all use these; a test checks every word has a label in both
languages."""

from __future__ import annotations

from storage.models.calllog import DIRECTIONS, DISPOSITIONS

__all__ = ["DIRECTIONS", "DIRECTION_LABELS", "DISPOSITIONS", "DISPOSITION_LABELS", "REFUSAL_LABELS"]

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
# Why a leg was not placed (pbx.policies.destinations.ReasonCode), short, for the call log.
REFUSAL_LABELS: dict[str, str] = {
    "invalid_number": "Not a valid number",
    "premium_rate": "Premium-rate number",
    "shared_cost": "Shared-cost number",
    "personal_number": "Personal number",
    "uan": "Universal access number",
    "voip": "VoIP-range number",
    "international_network": "Satellite or international network",
    "country_not_allowed": "Country not allowed",
    "unknown_destination": "Number outside the allowed ranges",
    "forwarding_suspended": "Forwarding suspended",
    "cost_cap": "Cost cap crossed",
    "not_a_mobile": "Not a mobile number",
    "foreign_mobile_needs_reason": "Foreign mobile number without a reason",
}
