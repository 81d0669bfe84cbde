"""The audit log in words (issue 16 item 7): what happened, to what, and what changed —
not `calllog.view`, `user 2` or JSON with `\\u00e4` escapes.

Every label is an English message id translated through the catalogue (sv: words.po). An
action without a label is shown by its subject and "changed", never by its code; a test
checks every action the code records has a label of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pbx.services.calllog.vocabulary import DIRECTION_LABELS, DISPOSITION_LABELS
from pbx.services.fraud.reasons import Reason

Translate = Callable[[str], str]

ACTION_LABELS: dict[str, str] = {
    "account.locked": "Account locked",
    "account.setup_link": "Setup link sent",
    "account.reset_link": "Password reset link sent",
    "backup.drill": "Restore drill",
    "backup.restore": "Restored from backup",
    "calllog.export": "Call log exported",
    "media.loss_recorded": "Lost media recorded",
    "calllog.purge": "Old calls deleted",
    "calllog.reveal": "Full numbers of a call shown",
    "calllog.stats_export": "Call statistics exported",
    "calllog.view": "Call log viewed",
    "forwarding.clear": "Forwarding removed",
    "forwarding.reported": "Forwarding reported as not made by the user",
    "forwarding.set": "Forwarding changed",
    "fraud.alert_contained": "Fraud alert contained",
    "fraud.alert_dismissed": "Fraud alert dismissed",
    "fraud.block_lifted": "Forwarding block lifted",
    "fraud.cap_crossed": "Fraud cap crossed",
    "fraud.contained": "Fraud contained",
    "fraud.scan": "Fraud scan",
    "greeting.delete": "Personal greeting deleted",
    "hours.closed_branch": "Closed-hours route changed",
    "hours.number_dropped": "Number removed from opening hours",
    "hours.update": "Opening hours changed",
    "incident.affected_callers_export": "Affected callers exported",
    "incident.callback_list_export": "Callback list exported",
    "incident.close": "Incident closed",
    "incident.companies_added": "Companies added to an incident",
    "incident.company_decision": "IMY decision recorded",
    "incident.create": "Incident registered",
    "incident.export": "Incident exported",
    "incident.forwarding_revert": "Forwarding change undone",
    "incident.letters_queued": "Letters to callers queued",
    "incident.pts_report": "PTS report recorded",
    "incident.rerecord_notice": "Re-recording notice sent",
    "incident.reset_passwords": "All passwords reset",
    "incident.suspend_accounts": "Accounts suspended",
    "incident.suspend_tenant": "Company suspended",
    "incident.update": "Incident changed",
    "ivr.create": "IVR menu created",
    "ivr.option.change": "IVR key changed",
    "ivr.option.remove": "IVR key removed",
    "ivr.option.set": "IVR key set",
    "ivr.update": "IVR menu changed",
    "login.failed": "Failed login",
    "login.refused": "Login refused",
    "login.reset_required": "Login needs a new password",
    "login.success": "Signed in",
    "number.create": "Number added",
    "number.remove": "Number removed",
    "number.route": "Number routing changed",
    "password.change": "Password changed",
    "password.change_failed": "Password change failed",
    "password.reset": "Password reset",
    "password.setup": "Password chosen",
    "phone.auth_failed": "Phone sign-in failed",
    "phone.credentials": "Phone credentials issued",
    "picture.set": "Profile picture changed",
    "queue.create": "Queue created",
    "queue.update": "Queue changed",
    "session.end": "Session ended",
    "session.sign_out_everywhere": "Signed out everywhere",
    "slot.audio": "Message audio changed",
    "slot.create": "Message created",
    "slot.delete": "Message deleted",
    "slot.rollback": "Message version restored",
    "slot.undelete": "Message restored",
    "slot.update": "Message changed",
    "tenant.allowed_countries": "Allowed countries changed",
    "tenant.create": "Company created",
    "tenant.retention": "Call-log retention changed",
    "tenant.voicemail_trust_calling_number": "Voicemail caller-number trust changed",
    "totp.disable": "Two-factor turned off",
    "totp.enrol": "Two-factor turned on",
    "totp.recovery_codes": "New recovery codes",
    "totp.reset": "Two-factor reset",
    "user.callback_number": "Callback number changed",
    "user.create": "User created",
    "user.dnd": "Do not disturb changed",
    "user.update": "User changed",
    "voicemail.pin": "Voicemail PIN changed",
    "voicemail.pin_reset": "Voicemail PIN reset",
    "voicemail.settings": "Voicemail settings changed",
}

# The filter's choices: what an action is about (its code's first word).
SUBJECT_LABELS: dict[str, str] = {
    "login": "Logins",
    "password": "Passwords",
    "totp": "Two-factor",
    "account": "Accounts",
    "session": "Sessions",
    "user": "Users",
    "forwarding": "Forwarding",
    "calllog": "Call log",
    "slot": "Messages",
    "picture": "Profile pictures",
    "greeting": "Personal greetings",
    "voicemail": "Voicemail",
    "ivr": "IVR menus",
    "queue": "Queues",
    "number": "Numbers",
    "hours": "Opening hours",
    "tenant": "Company",
    "phone": "Phones",
    "fraud": "Fraud guard",
    "incident": "Incidents",
    "backup": "Backups",
}

TARGET_LABELS: dict[str, str] = {
    "user": "User",
    "slot": "Message",
    "tenant": "Company",
    "ivr": "IVR menu",
    "ivr_option": "IVR key",
    "queue": "Queue",
    "number": "Number",
    "incident": "Incident",
    "fraud_alert": "Fraud alert",
    "backup": "Backup",
    "hours": "Opening hours",
    "call": "Call",
}

FIELD_LABELS: dict[str, str] = {
    "active": "Active",
    "closed": "When closed",
    "destination": "Destination",
    "destination_kind": "Destination type",
    "digit": "Key",
    "e164": "Number",
    "email": "E-mail",
    "extension": "Extension",
    "kind": "Type",
    "language": "Language",
    "members": "Members",
    "mobile": "Mobile",
    "name": "Name",
    "org_number": "Organisation number",
    "overflow": "When nobody answers",
    "picture_id": "Picture",
    "prompt_slot_id": "Prompt",
    "ring_seconds": "Ring time (seconds)",
    "role": "Role",
    "slot_id": "Message",
    "message_slot_id": "Message",
    "hold_slot_id": "Message on hold",
    "welcome_slot_id": "Welcome message",
    "source": "Source",
    "strategy": "Strategy",
    "to": "To",
    "version": "Version",
    "slug": "Short name",
    "countries": "Countries",
    "days": "Days",
    "reason": "Reason",
    "step": "Step",
    "failures": "Failed attempts in a row",
    "status": "Status",
    "timeout_seconds": "Timeout (seconds)",
    "max_retries": "Invalid keys",
    "max_wait_seconds": "Maximum wait (seconds)",
}

VALUE_LABELS: dict[str, str] = {
    "unconditional": "Always",
    "busy": "When busy",
    "no_answer": "When not answered",
    "unavailable": "When unavailable",
    "extension": "Extension",
    "external": "External number",
    "voicemail": "Voicemail",
    "queue": "Queue",
    "ring_group": "Ring group",
    "ivr": "IVR menu",
    "user": "User",
    "hangup": "Hang up",
    "ring_all": "All at once",
    "in_order": "In order",
    "round_robin": "Round robin",
    "least_recent": "Least recently answered first",
    "company_admin": "Company admin",
    "operator": "Operator",
    "greeting": "Voicemail greeting",
    "welcome": "Welcome message",
    "hold": "Message on hold",
    "closed": "Closed message",
    "other": "Other message",
    "sv": "Swedish",
    "en": "English",
    "demo": "Demo recording",
    "upload": "Upload",
    "tts": "Text-to-speech",
    "phone": "Recorded by phone",
    "browser": "Recorded in the browser",
    "restore": "Restored from backup",
    **{k: v for k, v in DIRECTION_LABELS.items()},
    **{k: v for k, v in DISPOSITION_LABELS.items() if k not in ("busy", "voicemail")},
}
# The incident register's stored words (pbx.incident.register, .assessment).
INCIDENT_WORDS: dict[str, str] = {
    "confidentiality": "Confidentiality",
    "integrity": "Integrity",
    "availability": "Availability",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "no": "No",
    "yes": "Yes",
    "planned": "Planned",
    "not_required": "Not required",
    "done": "Done in time",
    "done_late": "Done late",
    "open": "In progress",
    "overdue": "Overdue",
    "pending": "Not decided",
    "report": "Reported to IMY",
    "no_report": "Not reported to IMY",
}
# A failed login's step and reason (pbx.services.accounts.login).
LOGIN_WORDS: dict[str, str] = {
    "password": "Password",
    "totp": "Two-factor code",
    "recovery_code": "Recovery code",
    "wrong_password": "Wrong password",
    "unknown": "No account with that address",
    "not_enrolled": "Two-factor authentication not set up",
    "wrong_code": "Wrong code",
    "totp_unreadable": "The code could not be read",
    "code_reused": "The code had been used already",
}
WORDS: dict[str, str] = {**VALUE_LABELS, **INCIDENT_WORDS, **LOGIN_WORDS}

# Detail keys kept for the machine, not shown: a message version's database id (the entry
# also holds its number within the message, `version`, which people know it by).
HIDDEN_KEYS = frozenset({"version_id"})

# Detail keys whose values are ids of a named kind of object.
ID_KINDS = {
    "to": "user",
    "members": "user",
    "user_id": "user",
    "slot_id": "slot",
    "message_slot_id": "slot",
    "hold_slot_id": "slot",
    "welcome_slot_id": "slot",
    "prompt_slot_id": "slot",
    "tenant_id": "tenant",
}


@dataclass(frozen=True)
class Line:
    when: Any
    who: str
    ip: str
    action: str
    target: str
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


def wanted_names(events: Iterable[Any]) -> set[tuple[str, int]]:
    """The `(kind, id)` pairs the page would like to name."""
    wanted: set[tuple[str, int]] = set()
    for e in events:
        if e.target_id.isdigit():
            wanted.add((e.target_type, int(e.target_id)))
        for details in (e.old or {}, e.new or {}):
            for key, value in _flat(details):
                kind = ID_KINDS.get(key)
                for ident in value if isinstance(value, list) else [value]:
                    if kind and isinstance(ident, int) and not isinstance(ident, bool):
                        wanted.add((kind, ident))
    return wanted


def _flat(details: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in details.items():
        if isinstance(value, Mapping):
            yield from _flat(value)
        else:
            yield key, value


class AuditWords:
    def __init__(self, translate: Translate, names: Mapping[tuple[str, int], str]) -> None:
        self._ = translate
        self.names = names

    def line(self, e: Any) -> Line:
        return Line(
            e.occurred_at,
            self.who(e.actor_label),
            e.ip or "",
            self.action(e.action),
            self.target(e.target_type, e.target_id),
            self.details(e.old),
            self.details(e.new),
        )

    def who(self, label: str) -> str:
        return self._("The system") if label in ("system", "") else label

    def action(self, code: str) -> str:
        if code in ACTION_LABELS:
            return self._(ACTION_LABELS[code])
        subject = TARGET_LABELS.get(code.split(".", 1)[0], "Setting")
        return f"{self._(subject)}: {self._('changed')}"

    def target(self, kind: str, ident: str) -> str:
        if not kind:
            return ""
        label = self._(TARGET_LABELS.get(kind, "Object"))
        name = self.names.get((kind, int(ident))) if ident.isdigit() else None
        if name:
            return f"{label} {name}"
        return f"{label} {self._('no.')} {ident}" if ident else label

    def details(self, values: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        if not values:
            return []
        return [
            (self.field(k), self.value(k, v)) for k, v in values.items() if k not in HIDDEN_KEYS
        ]

    def field(self, key: str) -> str:
        return self._(FIELD_LABELS.get(key, key.replace("_", " ").capitalize()))

    def value(self, key: str, value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, bool):
            return self._("Yes") if value else self._("No")
        if isinstance(value, list):
            return ", ".join(self.value(key, item) for item in value) or "–"
        if isinstance(value, Mapping):
            return "; ".join(f"{self.field(k)}: {self.value(k, v)}" for k, v in value.items())
        if isinstance(value, int) and key in ID_KINDS:
            return self.names.get((ID_KINDS[key], value)) or f"{self._('no.')} {value}"
        if isinstance(value, str) and key == "reason":
            return fraud_reason(self._, value)
        if isinstance(value, str) and value in WORDS:
            return self._(WORDS[value])
        return str(value)


def fraud_reason(translate: Translate, text: str) -> str:
    """A stored fraud reason (`intl_legs_user_hour: 20 legs (limit 15)`) as a sentence in the
    page's language; any other reason as its word, or as it is."""
    reason = Reason.parse(text)
    if reason is not None:
        return translate(reason.message_id) % reason.params
    return translate(WORDS[text]) if text in WORDS else text


def forwarding_state(translate: Translate, state: Mapping[str, Any] | None) -> str:
    """A forwarding's state as the operator's page shows it: the destination, or none."""
    if not state:
        return translate("No forwarding")
    off = "" if state.get("active", True) else f" ({translate('turned off')})"
    return f"{state.get('destination', '–')}{off}"
