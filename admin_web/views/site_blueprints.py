"""The administration site's blueprints, one line each (registered by admin_web.blueprints)."""

from __future__ import annotations

from admin_web.views import (
    phone_settings,
    site_calls,
    site_company,
    site_forwarding,
    site_hours,
    site_ivr,
    site_nav,
    site_number_admin,
    site_numbers,
    site_presence,
    site_queues,
    site_stats,
    site_testcall,
    site_user_actions,
    site_user_import,
    site_users,
    voicemail_settings,
)

ALL = (
    site_nav.bp,
    site_company.bp,
    site_users.bp,
    site_user_actions.bp,
    site_numbers.bp,
    site_forwarding.bp,
    site_ivr.bp,
    site_queues.bp,
    site_hours.bp,
    site_presence.bp,
    site_calls.bp,
    site_testcall.bp,
    phone_settings.bp,
    site_user_import.bp,  # before site_users: /users/import is not a user id
    site_number_admin.bp,
    site_stats.bp,
    voicemail_settings.bp,
)
