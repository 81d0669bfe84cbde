"""What every page of the administration site shares: the company being administered, the
acting person, and turning domain errors into field messages in the reader's language.

Views stay thin: parse the form, call a service, render. A form that fails validation is
re-rendered with status 422, so the request's unit of work is rolled back (nothing
half-saved) even if a service had flushed part of a change before refusing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import abort, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from admin_web import reauth_pending
from admin_web.auth import current_actor, recently_reauthenticated
from admin_web.db import db
from admin_web.destination_text import refusal_text
from admin_web.i18n import gettext
from admin_web.request_values import parse_id, parse_int
from pbx.errors import DestinationRefused, PbxError, ValidationError
from pbx.services.common.actor import Actor
from pbx.services.common.scope import get_in_tenant, get_scoped
from pbx.services.routing.targets import Target, external_number
from storage.models import Tenant

T = TypeVar("T")
OPERATOR_TENANT_KEY = "site_tenant_id"
FORM_ERROR_STATUS = 422

# Domain error codes → the sentence shown next to the field (English msgid, Swedish in
# translations/sv/site.po). Codes come from pbx.policies.destinations and the services; a
# %(name)s in the text is filled from the error's `params`.
REASONS: dict[str, str] = {
    "premium_rate": "Premium-rate numbers are never allowed as a destination.",
    "shared_cost": "Shared-cost numbers are never allowed as a destination.",
    "personal_number": "Personal numbers are never allowed as a destination.",
    "uan": "Universal access (UAN) numbers are never allowed as a destination.",
    "voip": "VoIP-range numbers are never allowed as a destination.",
    "international_network": "Satellite and international networks (+881, +882, +883) are "
    "never allowed as a destination.",
    "country_not_allowed": "The country of this number is not allowed for this company. "
    "An administrator can add it under Allowed countries.",
    "unknown_destination": "The number is not in any range that forwarding may go to.",
    "invalid_number": "Write the number as +46701234567 or, for a Swedish number, 0701234567.",
    "duplicate_digit": "This key is already used in this menu.",
    "last_admin": "The company needs at least one active administrator.",
    "extension_taken": "Extension %(extension)s is already taken in this company.",
    "email_taken": "The e-mail %(email)s is in use.",
    "reserved_extension": "%(extension)s is the voicemail service number.",
    "unknown_extension": "There is no extension %(extension)s in this company.",
    "member_without_extension": "User %(user)s has no extension here.",
    "unknown_target": "That destination does not exist in this company.",
    "unknown_message": "That message does not exist in this company.",
    "too_long": "At most %(max_length)s characters.",
    "unknown_country": "%(country)s is not a country code (e.g. NO, FI, DE).",
    "home_country": "%(country)s is the home country and always allowed.",
    "forwarding_loop": "This forwarding would make a loop.",
    "forwarding_depth": "A chain of forwardings can be at most %(steps)s steps.",
    "too_many": "Too many calls match: narrow the dates.",
    "bad_characters": "Names may not contain control characters or text-direction characters.",
    "script_too_long": "The script text can be at most 2000 characters.",
    "title_missing": "Give the incident a title.",
}


def actor() -> Actor:
    return current_actor()


def site_tenant() -> Tenant:
    """The company administered in this request: the account's own, or for an operator the
    one chosen on the companies page (no choice yet: to that page)."""
    who = actor()
    if who.is_operator:
        chosen = session.get(OPERATOR_TENANT_KEY)
        if chosen is None:
            abort(redirect(url_for("site_company.choose")))
        return get_scoped(db(), who, Tenant, chosen)
    tenant = db().get(Tenant, who.tenant_id) if who.tenant_id is not None else None
    if tenant is None:
        abort(404)
    return tenant


def site_object(model: type[T], object_id: str, tenant: Tenant | None = None) -> T:
    """An object of the administered company by id: another company's is a 404, exactly
    like an id that does not exist (the one scoped loader of the site's views)."""
    tenant = tenant or site_tenant()
    return get_in_tenant(db(), actor(), model, object_id, tenant.id)


def needs_reauth(tenant: Tenant, target: Target, field_name: str) -> bool:
    """An external destination: run the fraud guard now (a refused number is refused with
    its reason before any prompt), then ask for re-authentication unless it is fresh."""
    if target.kind != "external":
        return False
    external_number(tenant, target.external, field_name)
    return not recently_reauthenticated()


def reauth_first(back: str) -> Response:
    """To the re-authentication page, then back to the form filled in as it was."""
    reason = gettext("Confirm it is you to send calls to an external number.")
    return reauth_pending.ask(back, reason)


def error_text(exc: PbxError) -> str:
    """A domain error as a sentence in the reader's language."""
    refused = refusal_text(exc) if isinstance(exc, DestinationRefused) else None
    if refused is not None:
        return refused
    if exc.code in REASONS:
        return gettext(REASONS[exc.code], **exc.params)
    return gettext(exc.message)


@dataclass
class Form:
    """Submitted values and their errors, field by field."""

    values: Mapping[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, default: str = "") -> str:
        return str(self.values.get(name, default) or default)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """A whole number within 64 bits (`request_values.parse_int`); else a field error."""
        raw = self.text(name).strip()
        if not raw:
            return default
        value = parse_int(raw)
        if value is None:
            self.errors[name] = gettext("Enter a whole number.")
            return default
        return value

    def optional_id(self, name: str) -> int | None:
        """An object's id (1 … 2**63-1) or nothing chosen; else a field error."""
        raw = self.text(name).strip()
        if not raw:
            return None
        value = parse_id(raw)
        if value is None:
            self.errors[name] = gettext("Choose one of the listed items.")
        return value

    def fail(self, exc: ValidationError) -> None:
        self.errors[exc.field] = error_text(exc)

    @property
    def ok(self) -> bool:
        return not self.errors


def render_form(template: str, form: Form | None = None, **context: Any) -> Any:
    """Render a page with a form; with errors it answers 422 so nothing is committed."""
    status = FORM_ERROR_STATUS if form is not None and form.errors else 200
    return render_template(template, form=form, **context), status
