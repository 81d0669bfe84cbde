"""User import from CSV (issue 17 item 7): every row checked first with the same rules as the
form (name, e-mail, extension, mobile, role), duplicates within the file and against the
company found, and nothing written until the whole file is clean; then all rows are created
in the caller's one transaction (all or none) and each new user gets a setup link, as when
an admin adds one person.

Columns by header, English or Swedish (`name`/`namn`, `email`/`e-post`,
`extension`/`anknytning`, `mobile`/`mobil`, `role`/`roll`, and the optional
`mobile_reason`/`mobilskäl`: why a user's own mobile is a foreign one, which the mobile-number
rules (`check_own_mobile`) ask for, as on the form); `,` or `;` as separator (Excel in Sweden
writes `;`), UTF-8 (with or without BOM) or Windows-1252.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pbx import identifiers
from pbx.errors import PbxError, ValidationError
from pbx.services.accounts import core as accounts
from pbx.services.common.actor import Actor
from pbx.services.people import users
from storage.models import Tenant, User

MAX_BYTES = 512 * 1024
MAX_ROWS = 1000
HEADERS = {
    "name": "name", "namn": "name",
    "email": "email", "e-mail": "email", "e-post": "email", "epost": "email",
    "extension": "extension", "anknytning": "extension",
    "mobile": "mobile", "mobil": "mobile", "mobilnummer": "mobile",
    "role": "role", "roll": "role",
    "mobile_reason": "mobile_reason", "mobile reason": "mobile_reason",
    "mobilskäl": "mobile_reason", "mobil_skäl": "mobile_reason", "skäl": "mobile_reason",
}  # fmt: skip
ROLES = {
    "": "user", "user": "user", "användare": "user",
    "company_admin": "company_admin", "admin": "company_admin",
    "administratör": "company_admin", "administrator": "company_admin",
}  # fmt: skip


@dataclass
class ImportRow:
    line: int  # line in the file (the header is line 1)
    values: dict[str, str]
    errors: list[PbxError] = field(default_factory=list)


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    problems: list[PbxError] = field(default_factory=list)  # the file as a whole

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems and not any(r.errors for r in self.rows)


class ImportRefused(PbxError):
    """The file has errors: nothing was written."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__("the file has errors; nothing was imported", code="import_refused")
        self.preview = preview


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _records(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[PbxError]]:
    if len(data) > MAX_BYTES:
        return [], [ValidationError("file", "the file is too large", code="file_too_large")]
    text = _text(data)
    first = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ","
    )
    lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not lines:
        return [], [ValidationError("file", "the file is empty", code="file_empty")]
    header = [HEADERS.get(cell.strip().lower(), "") for cell in lines[0][1]]
    missing = [name for name in ("name", "email") if name not in header]
    if missing:
        return [], [ValidationError("file", "the file needs the columns name and email",
                                    code="missing_columns")]  # fmt: skip
    if len(lines) - 1 > MAX_ROWS:
        return [], [ValidationError("file", "too many rows", code="too_many_rows")]
    records = [
        (line, {key: cell.strip() for key, cell in zip(header, row, strict=False) if key})
        for line, row in lines[1:]
    ]
    return records, []


def preview(session: Session, actor: Actor, tenant: Tenant, data: bytes) -> ImportPreview:
    """Every row with its errors; writes nothing."""
    actor.require_admin(tenant.id)
    records, problems = _records(data)
    result = ImportPreview([ImportRow(line, values) for line, values in records], problems)
    seen_emails: dict[str, int] = {}
    seen_extensions: dict[str, int] = {}
    for row in result.rows:
        _check_row(session, tenant, row)
        _check_repeats(row, "email", row.values.get("email", "").lower(), seen_emails)
        _check_repeats(row, "extension", row.values.get("extension", ""), seen_extensions)
    return result


def _check_row(session: Session, tenant: Tenant, row: ImportRow) -> None:
    v = row.values
    checks: tuple[Callable[[], object], ...] = (
        lambda: identifiers.name(v.get("name", "")),
        lambda: _new_email(session, v.get("email", "")),
        lambda: _new_extension(session, tenant, v.get("extension", "")),
        lambda: (
            v.get("mobile")
            and users.own_mobile(v["mobile"], tenant.home_region, v.get("mobile_reason", ""))
        ),
        lambda: _role(v.get("role", "")),
    )
    for check in checks:
        try:
            check()
        except PbxError as exc:
            row.errors.append(exc)


def _new_email(session: Session, value: str) -> str:
    email = identifiers.email(value)
    users.check_email_free(session, email)
    return email


def _new_extension(session: Session, tenant: Tenant, value: str) -> str | None:
    if not value:
        return None
    ext = identifiers.extension(value)
    users.check_extension_free(session, tenant.id, ext)
    return ext


def _role(value: str) -> str:
    role = ROLES.get(value.strip().lower())
    if role is None:
        raise ValidationError("role", "role must be company administrator or user")
    return role


def _check_repeats(row: ImportRow, name: str, value: str, seen: dict[str, int]) -> None:
    if not value:
        return
    if value in seen:
        row.errors.append(
            ValidationError(
                name, f"same as line {seen[value]}", code="repeated", params={"line": seen[value]}
            )
        )
    else:
        seen[value] = row.line


@dataclass(frozen=True)
class Imported:
    user: User
    link: str


def import_users(
    session: Session, config: accounts.AccountsConfig, actor: Actor, tenant: Tenant, data: bytes
) -> list[Imported]:
    """Create every row's user and send each a setup link; refuse the whole file (writing
    nothing) if any row has an error. The caller's transaction makes it all or none."""
    checked = preview(session, actor, tenant, data)
    if not checked.ok:
        raise ImportRefused(checked)
    done = []
    for row in checked.rows:
        v = row.values
        user = users.create_user(
            session, actor, tenant, name=v["name"], email=v["email"],
            role=_role(v.get("role", "")), extension=v.get("extension") or None,
            mobile=v.get("mobile") or None, mobile_reason=v.get("mobile_reason", ""),
        )  # fmt: skip
        done.append(Imported(user, accounts.issue_link(session, config, actor, user, "setup")))
    return done
