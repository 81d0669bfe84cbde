"""Data and helpers for the message library's web tests (fixtures: library_fixtures.py).

Fixture names are kept apart from the site's. `studio` is a company with an admin (TOTP), a
user, a message with real audio placed on a number, a message whose audio is lost, a user
greeting, received voicemail (one lost) and a picture; `rival_studio` is a second company
with the same objects, for isolation tests; `studio_admin` / `studio_user` sign the test
client in as the studio's admin or user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from pbx.services.common.actor import Actor
from pbx.services.library import messages as library
from pbx.services.people import greetings, profile_pictures, voicemail
from pbx.services.routing import numbers
from pbx.services.routing.targets import Target
from storage.blobs import BlobStore, FileBlobStore
from storage.models import User
from tests.builders import make_tenant
from tests.library_media import picture_bytes, speech_wav
from tests.web.accounts import make_account

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Login:
    id: int
    email: str
    password: str
    totp: str | None
    mobile: str | None


@dataclass
class Studio:
    tenant_id: int
    admin: Login
    user: Login
    placed: int  # a message with audio, used by a number
    lost: int  # a message whose audio is gone (unplaced)
    version: int  # the placed message's current version
    greeting_version: int
    voicemail_ok: int
    voicemail_lost: int
    picture: int
    blobs: list[str] = field(default_factory=list)


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


def login(account: tuple[User, str, str | None]) -> Login:
    user, password, secret = account
    return Login(user.id, user.email, password, secret, user.mobile)


def build_studio(session: Session, blobs: BlobStore, n: int) -> Studio:
    tenant = make_tenant(session, name=f"Ljudbolaget {n} AB", slug=f"ljud-{n}")
    admin_account = make_account(
        session, tenant, "company_admin", extension=f"{n}10", mobile=f"+4673555{n:04d}"
    )
    user_account = make_account(session, tenant, "user", extension=f"{n}11", totp=False)
    admin = actor_of(admin_account[0])
    placed = library.create_message(
        session, admin, tenant, kind="welcome", name="Välkommen", script_text="Välkommen!"
    )
    version = library.save_audio(session, blobs, admin, placed, speech_wav(seed=n))
    target = Target("user", user_id=user_account[0].id)
    numbers.add_number(
        session, admin, tenant, f"+4685230{n:04d}", target, welcome_slot_id=placed.id
    )
    lost = library.create_message(
        session, admin, tenant, kind="ivr", name="Knappval", script_text="Tryck ett för oss."
    )
    lost_version = library.save_audio(session, blobs, admin, lost, speech_wav(seed=n + 10))
    user = user_account[0]
    greeting = greetings.upload_greeting(session, blobs, actor_of(user), user, speech_wav(seed=3))
    ok, gone = _voicemail(session, blobs, user)
    picture = profile_pictures.upload_picture(session, blobs, admin, user, picture_bytes())
    return Studio(
        tenant.id, login(admin_account), login(user_account), placed.id, lost.id, version.id,
        greeting.id, ok, gone, picture.id, [lost_version.blob_sha256],
    )  # fmt: skip


def _voicemail(session: Session, blobs: BlobStore, user: User) -> tuple[int, int]:
    box = voicemail.box_of(session, user)
    when = datetime(2026, 4, 26, 15, 30, tzinfo=UTC)
    ids = []
    for caller, seed in (("+46701112233", 4), ("+46709998877", 5)):
        message = voicemail.deposit(
            session, blobs, box, caller=caller, received_at=when,
            master_wav=speech_wav(seed=seed), duration_ms=2000,
        )  # fmt: skip
        ids.append(message.id)
    return ids[0], ids[1]


def lose_blob(app: Flask, sha: str) -> None:
    FileBlobStore(app.extensions["pbx"].settings.blob_dir).path_for(sha).unlink()


def token_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> TestResponse:
    """POST like the browser: with this session's CSRF token (from a page that has it)."""
    token = token_of(client, "/account/sessions")
    return client.post(path, data={**(data or {}), "csrf_token": token})


def upload(
    client: FlaskClient, path: str, content: bytes, filename: str = "file.bin", name: str = "file"
) -> TestResponse:
    """POST a file the way a browser form does. The body is built here: the test client's own
    multipart encoder leaves a temporary file open for bodies over 500 kB (a ResourceWarning,
    fatal under warnings-as-errors), which is the test client's, not the site's."""
    boundary = "----vaxel-test-boundary-7d3f"
    token = token_of(client, "/account/sessions")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
