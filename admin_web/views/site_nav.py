"""The site's menu, in the product's own sections (Organisation, Samtalslista, Säkerhet,
Mina inställningar), rendered by templates/_nav.html.

Each entry names an endpoint; an entry whose endpoint does not exist (yet) is left out, so
the hooks below light up by themselves when the feature that owns them registers its
blueprint. To add a page to the menu, add one line here. The rendered menu is kept per role,
language and page (`menu_html`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from admin_web.i18n import current_language

bp = Blueprint("site_nav", __name__)

ADMINS = ("company_admin", "operator")
EVERYONE = ("company_admin", "operator", "user")
TENANT_PEOPLE = ("company_admin", "user")


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: str  # English msgid; translated in the template
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    label: str
    entries: tuple[Entry, ...]


NAV: tuple[Section, ...] = (
    Section(
        "Organisation",
        (
            Entry("site_company.choose", "Companies", ("operator",)),
            Entry("site_company.settings", "Company settings", ADMINS),
            Entry("site_numbers.index", "Numbers", ADMINS),
            Entry("site_users.index", "Users", ADMINS),
            Entry("site_user_import.start", "Import users", ADMINS),  # issue 17
            Entry("library.index", "Message library", ADMINS),  # hook: message library
            Entry("pictures.company", "Profile pictures", ADMINS),  # message library (issue 6)
            Entry("site_ivr.index", "IVR menus", ADMINS),
            Entry("site_queues.index", "Queues", ADMINS),
            Entry("site_hours.index", "Opening hours", ADMINS),  # issue 17
            Entry("site_presence.company", "Do not disturb", ADMINS),  # issue 17
            Entry("site_testcall.index", "Test call", ADMINS),
        ),
    ),
    Section(
        "Call logs",
        (
            Entry("site_calls.index", "Call logs", TENANT_PEOPLE),
            Entry("site_stats.index", "Call statistics", ADMINS),  # issue 17
            Entry("callbacks.index", "Call back", EVERYONE),  # incident response
        ),
    ),
    Section(
        "Security",
        (
            Entry("audit_log.index", "Audit log", ADMINS),  # the accounts feature's page
            Entry("account.sessions", "Sessions", EVERYONE),
            Entry("site_company.countries", "Allowed countries", ADMINS),
            Entry("incidents.index", "Incidents", ADMINS),  # incident response
        ),
    ),
    Section(
        "Incident response",
        (
            Entry("operator.index", "Operator console", ("operator",)),
            Entry("operator_contain.forwarding", "Forwarding changes", ("operator",)),
            Entry("operator_notify.affected", "Affected callers", ("operator",)),
            Entry("operator_notify.recovery_page", "Media recovery", ("operator",)),
        ),
    ),
    Section(
        "My settings",
        (
            Entry("site_forwarding.mine", "Forwarding", TENANT_PEOPLE),
            Entry("site_presence.mine", "Do not disturb", TENANT_PEOPLE),  # issue 17
            Entry("greeting.mine", "Voicemail greeting", TENANT_PEOPLE),  # hook: library
            Entry("voicemail_settings.mine", "Voicemail settings", TENANT_PEOPLE),  # issue 17
            Entry("pictures.mine", "Profile picture", TENANT_PEOPLE),  # hook: library
            Entry("softphone.index", "Softphone", TENANT_PEOPLE),  # message library (issue 6)
            Entry("phone_settings.mine", "Phone", TENANT_PEOPLE),  # SIP front (issue 14)
            Entry("account.change_password", "Password", EVERYONE),
            Entry("account.two_factor", "Two-factor authentication", EVERYONE),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: str
    url: str


@dataclass(frozen=True)
class Shown:
    section: Section
    links: list[Link]
    endpoints: frozenset[str]  # to mark the section of the current page


def menu_for(role: str) -> list[Shown]:
    """The sections and entries this role sees, among the pages that exist. Built once per
    role and process: the menu is on every page and its URLs never change."""
    cache: dict[str, list[Shown]] = current_app.extensions.setdefault("site_menu", {})
    if role not in cache:
        cache[role] = _build(role)
    return cache[role]


def _build(role: str) -> list[Shown]:
    existing = current_app.view_functions
    shown = []
    for section in NAV:
        links = [
            Link(e.endpoint, e.label, url_for(e.endpoint))
            for e in section.entries
            if role in e.roles and e.endpoint in existing
        ]
        if links:
            shown.append(Shown(section, links, frozenset(link.endpoint for link in links)))
    return shown


def menu_html() -> Markup:
    """The menu as HTML for this role, language and page. Rendered once per process for
    each: it is on every page, and nothing else changes it."""
    role = current_user.account.role if current_user.is_authenticated else ""
    key = (role, current_language(), request.endpoint)
    cache: dict[tuple[str, str, str | None], Markup] = current_app.extensions.setdefault(
        "site_menu_html", {}
    )
    if key not in cache:
        menu = menu_for(role) if role else []
        html = render_template("_nav.html", site_menu=menu, current_endpoint=request.endpoint)
        cache[key] = Markup(html)
    return cache[key]


@bp.app_context_processor
def _menu() -> dict[str, object]:
    return {"site_menu_html": menu_html}
