"""Sending the outbox through SMTP when `PBX_SMTP_URL` is set.

URL forms: `smtp://host:25`, `smtp://user:password@host:587?starttls=1`,
`smtps://host:465`; `?from=address` sets the sender (default `no-reply@vaxel.invalid`).
A message is marked sent (`sent_at`) only after the server accepted it; one refused
recipient is reported and the rest still go. Unsent messages stay in the outbox, so sending
again later picks up exactly what is left.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from storage.blobs import BlobError, BlobStore
from storage.models import OutboxMessage, utcnow

DEFAULT_FROM = "no-reply@vaxel.invalid"
TIMEOUT = 20.0


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str


def parse_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationError("smtp_url", "PBX_SMTP_URL must look like smtp://host:port")
    query = parse_qs(parts.query)
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        ssl=parts.scheme == "smtps",
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=query.get("from", [DEFAULT_FROM])[0],
    )


@dataclass
class SendReport:
    sent: int = 0
    refused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "refused": self.refused}


def pending(
    session: Session, kinds: Sequence[str] | None, limit: int | None
) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)
    if kinds:
        stmt = stmt.where(OutboxMessage.kind.in_(kinds))
    return list(session.scalars(stmt.limit(limit) if limit else stmt))


def send_outbox(
    session: Session,
    url: str,
    *,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
    blobs: BlobStore | None = None,
    site_url: str = "",
) -> SendReport:
    """Send unsent messages (of `kinds`, oldest first) over one SMTP connection. A message
    naming a blob gets it attached (from `blobs`); a site link is made absolute with
    `site_url` (the site's public address)."""
    target = parse_url(url)
    messages = pending(session, kinds, limit)
    report = SendReport()
    if not messages:
        return report
    with _connect(target) as smtp:
        for row in messages:
            try:
                smtp.send_message(_email(row, target.sender, blobs, site_url))
            except smtplib.SMTPRecipientsRefused:
                report.refused.append(row.to_address)
                continue
            row.sent_at = utcnow()
            report.sent += 1
    session.flush()
    return report


def _connect(target: SmtpTarget) -> smtplib.SMTP:
    smtp: smtplib.SMTP
    if target.ssl:
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT)
        if target.starttls:
            smtp.starttls()
    if target.username and target.password:
        smtp.login(target.username, target.password)
    return smtp


def _email(
    row: OutboxMessage, sender: str, blobs: BlobStore | None = None, site_url: str = ""
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = f"<outbox-{row.id}@vaxel.invalid>"
    body = row.body
    if row.link_path:
        body += f"\n{site_url.rstrip('/')}{row.link_path}"
    attachment = _attachment(row, blobs)
    if row.attachment_sha256 and attachment is None:
        body += "\n(Bilagan saknas / The attachment is missing.)"
    message.set_content(body)
    if attachment is not None:
        name = row.attachment_name or "bilaga.wav"
        message.add_attachment(attachment, maintype="audio", subtype="wav", filename=name)
    return message


def _attachment(row: OutboxMessage, blobs: BlobStore | None) -> bytes | None:
    """The named blob, verified on read; None when there is none or it is lost."""
    if not row.attachment_sha256 or blobs is None:
        return None
    try:
        return blobs.get(row.attachment_sha256)
    except BlobError:  # a lost or damaged blob: the message still goes, saying so
        return None
