"""The password policy's reasons in the reader's language (SECURITY.md 2: say *why*)."""

from __future__ import annotations

from flask import flash

from admin_web.i18n import gettext as _
from pbx.security.passwords import PasswordProblem


def problem_message(problem: PasswordProblem) -> str:
    p = problem.params
    if problem.code == "too_short":
        return _("The password must be at least %(n)s characters long.", n=p["min_length"])
    if problem.code == "too_long":
        return _("The password can be at most %(n)s characters long.", n=p["max_length"])
    if problem.code == "blocklisted" and p.get("variant") == "reused":
        return _("The new password must differ from the current one.")
    if problem.code == "blocklisted" and p.get("variant") == "exact":
        return _("This password is on a list of common or leaked passwords.")
    if problem.code == "blocklisted":
        return _(
            "This password is a common or leaked password that is only repeated or has "
            "digits or symbols added."
        )
    if problem.code == "contains_context_word":
        return _(
            'The password must not contain "%(word)s": your name, e-mail address, company '
            "name and the name of the service are easy to guess.",
            word=p["word"],
        )
    return _("The password is too easy to guess. A longer phrase of unusual words works well.")


def flash_problems(problems: list[PasswordProblem]) -> None:
    for problem in problems:
        flash(problem_message(problem), "error")
