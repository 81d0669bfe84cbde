"""Every blueprint of the site, registered in one place (one line per feature)."""

from __future__ import annotations

from flask import Flask

from admin_web.views import (
    account,
    audit_log,
    callbacks_page,
    greeting,
    home,
    incidents,
    library,
    library_audio,
    library_record,
    login,
    media,
    operator,
    operator_backups,
    operator_contain,
    operator_demo,
    operator_notify,
    operator_outbox,
    operator_restore,
    pictures,
    site_blueprints,
    softphone,
    softphone_rtc,
)


def register_blueprints(app: Flask) -> None:
    for blueprint in (home.bp,):
        app.register_blueprint(blueprint)
    _register_accounts(app)
    _register_site(app)
    _register_library(app)
    _register_incidents(app)


def _register_accounts(app: Flask) -> None:
    """Accounts and login (issue 4): sign-in, own account, audit log."""
    for blueprint in (login.bp, account.bp, audit_log.bp):
        app.register_blueprint(blueprint)


def _register_site(app: Flask) -> None:
    """The administration site (issue 5): menu, company, users, numbers, forwarding, IVR,
    queues, call logs, test call."""
    for blueprint in site_blueprints.ALL:
        app.register_blueprint(blueprint)


def _register_library(app: Flask) -> None:
    """Message library and media (issue 6): library, media files, greeting, pictures,
    softphone. The library's audio and record pages add routes to its blueprint."""
    assert library_audio and library_record  # imported for the routes they add
    assert softphone_rtc  # the softphone's WebRTC signalling, on its blueprint
    for blueprint in (library.bp, media.bp, greeting.bp, pictures.bp, softphone.bp):
        app.register_blueprint(blueprint)


def _register_incidents(app: Flask) -> None:
    """Incident response (issue 8): operator console, containment, affected callers and
    recovery, the incident register, call-back lists; restore drills (issue 7)."""
    for blueprint in (
        operator.bp,
        operator_contain.bp,
        operator_notify.bp,
        operator_outbox.bp,
        operator_backups.bp,
        operator_demo.bp,
        operator_restore.bp,
        incidents.bp,
        callbacks_page.bp,
    ):
        app.register_blueprint(blueprint)
