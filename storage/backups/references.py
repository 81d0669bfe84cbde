"""Every reference from a database row to a media blob, streamed in blob order.

Four kinds of rows point at blobs: message-slot versions (the master and the original
upload), received voicemail messages, and profile pictures (the picture and its original).
One query unions them and orders by blob hash, so the references of one blob arrive
together: callers group them with `itertools.groupby` and read each blob once, in bounded
memory, however large the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from storage.models import (
    MediaVersion,
    MessageSlot,
    ProfilePicture,
    Tenant,
    User,
    VoicemailBox,
    VoicemailMessage,
)

OWNERS = ("slot_version", "voicemail_message", "profile_picture")
ROLES = ("master", "original")


@dataclass(frozen=True)
class BlobRef:
    """One row's use of one blob. `current` says the row is in use now: the slot's current
    version, the user's newest picture, any voicemail message."""

    sha256: str
    role: str  # "master" (what is played/shown) or "original" (the upload as received)
    owner: str  # one of OWNERS
    owner_id: int
    tenant_id: int | None
    slot_id: int | None = None
    slot_name: str | None = None
    slot_kind: str | None = None
    user_id: int | None = None
    box_id: int | None = None
    current: bool = True
    deleted: bool = False
    duration_ms: int | None = None
    content_type: str | None = None

    @property
    def is_audio_master(self) -> bool:
        return self.role == "master" and self.owner in ("slot_version", "voicemail_message")

    @property
    def is_picture(self) -> bool:
        return self.role == "master" and self.owner == "profile_picture"

    def as_dict(self) -> dict[str, Any]:
        # Flat fields only: a plain comprehension (dataclasses.asdict deep-copies, and this
        # runs once per reference in every backup and verify).
        return {name: getattr(self, name) for name in _FIELDS}

    def canonical(self) -> str:
        """The one text form of this reference, for digests: the repr of its values in field
        order (ints, strings, booleans and None only, so the form is stable)."""
        return repr(tuple(getattr(self, name) for name in _FIELDS))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BlobRef:
        return cls(**values)


_FIELDS = tuple(f.name for f in fields(BlobRef))
_INT = Integer()
_STR = String()


def _none(type_: Any) -> Any:
    return cast(null(), type_)


def _version_refs(role: str) -> Select[Any]:
    v, s = MediaVersion, MessageSlot
    sha = v.blob_sha256 if role == "master" else v.original_sha256
    query = select(
        sha.label("sha256"),
        literal(role, _STR).label("role"),
        literal("slot_version", _STR).label("owner"),
        v.id.label("owner_id"),
        s.tenant_id.label("tenant_id"),
        s.id.label("slot_id"),
        s.name.label("slot_name"),
        s.kind.label("slot_kind"),
        _none(_INT).label("user_id"),
        _none(_INT).label("box_id"),
        case((s.current_version_id == v.id, 1), else_=0).label("current"),
        case((s.deleted_at.is_not(None), 1), else_=0).label("deleted"),
        v.duration_ms.label("duration_ms"),
        _none(_STR).label("content_type"),
    ).join(s, s.id == v.slot_id)
    return query.where(sha.is_not(None))


def _voicemail_refs() -> Select[Any]:
    m, b, u = VoicemailMessage, VoicemailBox, User
    return (
        select(
            m.blob_sha256.label("sha256"),
            literal("master", _STR).label("role"),
            literal("voicemail_message", _STR).label("owner"),
            m.id.label("owner_id"),
            u.tenant_id.label("tenant_id"),
            _none(_INT).label("slot_id"),
            _none(_STR).label("slot_name"),
            _none(_STR).label("slot_kind"),
            u.id.label("user_id"),
            b.id.label("box_id"),
            literal(1, _INT).label("current"),
            case((m.deleted_at.is_not(None), 1), else_=0).label("deleted"),
            m.duration_ms.label("duration_ms"),
            _none(_STR).label("content_type"),
        )
        .join(b, b.id == m.box_id)
        .join(u, u.id == b.user_id)
        .where(m.blob_sha256.is_not(None))
    )


def _picture_refs(role: str) -> Select[Any]:
    p, u = ProfilePicture, User
    newer = aliased(ProfilePicture)
    newest = select(func.max(newer.id)).where(newer.user_id == p.user_id).scalar_subquery()
    sha = p.blob_sha256 if role == "master" else p.original_sha256
    query = select(
        sha.label("sha256"),
        literal(role, _STR).label("role"),
        literal("profile_picture", _STR).label("owner"),
        p.id.label("owner_id"),
        u.tenant_id.label("tenant_id"),
        _none(_INT).label("slot_id"),
        _none(_STR).label("slot_name"),
        _none(_STR).label("slot_kind"),
        u.id.label("user_id"),
        _none(_INT).label("box_id"),
        case((p.id == newest, 1), else_=0).label("current"),
        literal(0, _INT).label("deleted"),
        _none(_INT).label("duration_ms"),
        p.content_type.label("content_type"),
    ).join(u, u.id == p.user_id)
    return query.where(sha.is_not(None))


def _all_refs(tenant_id: int | None) -> Any:
    parts = [
        _version_refs("master"),
        _version_refs("original"),
        _voicemail_refs(),
        _picture_refs("master"),
        _picture_refs("original"),
    ]
    if tenant_id is not None:
        parts = [part.where(part.selected_columns.tenant_id == tenant_id) for part in parts]
    return union_all(*parts).subquery("refs")


def iter_references(session: Session, tenant_id: int | None = None) -> Iterator[BlobRef]:
    """All references (or one company's), ordered by blob hash (byte order on both
    databases), then owner, row and role; streamed, never loaded whole."""
    refs = _all_refs(tenant_id)
    sha = refs.c.sha256
    if session.get_bind().dialect.name == "postgresql":
        sha = sha.collate("C")
    stmt = select(refs).order_by(sha, refs.c.owner, refs.c.owner_id, refs.c.role)
    result = session.execute(stmt.execution_options(yield_per=1000))
    for row in result:
        values = row._asdict()
        values["current"] = bool(values["current"])
        values["deleted"] = bool(values["deleted"])
        yield BlobRef(**values)


def count_references(session: Session, tenant_id: int | None = None) -> int:
    refs = _all_refs(tenant_id)
    return int(session.scalar(select(func.count()).select_from(refs)) or 0)


def tenants_of(session: Session) -> list[dict[str, Any]]:
    """The companies (id, slug, name) — few enough to hold in memory."""
    rows = session.execute(select(Tenant.id, Tenant.slug, Tenant.name).order_by(Tenant.id))
    return [{"id": r.id, "slug": r.slug, "name": r.name} for r in rows]
