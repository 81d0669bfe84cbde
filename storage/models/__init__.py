"""All models, imported so that `Base.metadata` is complete (Alembic, create_all)."""

from storage.models.accounts import AccountToken, RecoveryCode, User, UserSession
from storage.models.audit import AuditEvent, OutboxMessage
from storage.models.backups import BackupDrill, BackupDrillCompany
from storage.models.base import Base, UtcDateTime, utcnow
from storage.models.calllog import CallLogEntry
from storage.models.calls import LiveCall, LiveCallTake
from storage.models.incidents import ForwardingBlock, FraudAlert, Incident, IncidentCompany
from storage.models.media import (
    MediaVersion,
    MessageSlot,
    ProfilePicture,
    StoredBlob,
    VoicemailBox,
    VoicemailMessage,
)
from storage.models.phones import PhoneRegistration, SipAccount
from storage.models.routing import (
    ForwardingRule,
    IvrMenu,
    IvrOption,
    OpeningHours,
    PhoneNumber,
    Queue,
    QueueMember,
)
from storage.models.site import ForwardingNotice
from storage.models.tenants import Tenant

__all__ = [
    "AccountToken",
    "AuditEvent",
    "BackupDrill",
    "BackupDrillCompany",
    "Base",
    "CallLogEntry",
    "ForwardingBlock",
    "ForwardingNotice",
    "ForwardingRule",
    "FraudAlert",
    "Incident",
    "IncidentCompany",
    "IvrMenu",
    "IvrOption",
    "LiveCall",
    "LiveCallTake",
    "MediaVersion",
    "MessageSlot",
    "OpeningHours",
    "OutboxMessage",
    "PhoneNumber",
    "PhoneRegistration",
    "ProfilePicture",
    "Queue",
    "QueueMember",
    "RecoveryCode",
    "SipAccount",
    "StoredBlob",
    "Tenant",
    "User",
    "UserSession",
    "UtcDateTime",
    "VoicemailBox",
    "VoicemailMessage",
    "utcnow",
]
