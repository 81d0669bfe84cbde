"""Why an account was contained or its forwarding suspended, in words (issue 16 item 7).

The fraud rules (`pbx.policies.fraud_rules`) and the call-time caps (`guard`) name what
they found by a rule code, a figure and the limit it reached. The code is what the machine
keeps: the stored form (`str(reason)`, e.g. `intl_legs_user_hour: 20 legs (limit 15)`) goes
into the audit data and the forwarding block, and `Reason.parse` reads it back. A person
reads a sentence instead: each rule has one, an English message id with the figures as
parameters (the site translates it through its catalogue, translations/sv/words.po) and its
Swedish text for the mails, which go out in both languages (a test keeps the two the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# rule -> (Swedish, English); `%(value)s` is the figure, `%(limit)s` the limit reached.
SENTENCES: dict[str, tuple[str, str]] = {
    "intl_legs_user_hour": (
        "%(value)s utlandssamtal på en timme från en användare (gränsen är %(limit)s)",
        "%(value)s calls abroad in one hour from one user (the limit is %(limit)s)",
    ),
    "intl_legs_user_day": (
        "%(value)s utlandssamtal på ett dygn från en användare (gränsen är %(limit)s)",
        "%(value)s calls abroad in one day from one user (the limit is %(limit)s)",
    ),
    "intl_legs_tenant_hour": (
        "%(value)s utlandssamtal på en timme från företaget (gränsen är %(limit)s)",
        "%(value)s calls abroad in one hour from the company (the limit is %(limit)s)",
    ),
    "intl_legs_tenant_day": (
        "%(value)s utlandssamtal på ett dygn från företaget (gränsen är %(limit)s)",
        "%(value)s calls abroad in one day from the company (the limit is %(limit)s)",
    ),
    "cost_user_day": (
        "samtal för omkring %(value)s kronor på ett dygn från en användare "
        "(gränsen är %(limit)s kronor)",
        "calls costing about %(value)s kronor in one day from one user "
        "(the limit is %(limit)s kronor)",
    ),
    "cost_tenant_day": (
        "samtal för omkring %(value)s kronor på ett dygn från företaget "
        "(gränsen är %(limit)s kronor)",
        "calls costing about %(value)s kronor in one day from the company "
        "(the limit is %(limit)s kronor)",
    ),
    "forwarding_change_traffic": (
        "%(value)s vidarekopplade samtal efter att vidarekopplingen ändrats från en ny "
        "IP-adress eller utanför kontorstid (gränsen är %(limit)s)",
        "%(value)s forwarded calls after the forwarding was changed from a new IP address "
        "or outside office hours (the limit is %(limit)s)",
    ),
    "failed_logins_success": (
        "%(value)s misslyckade inloggningar och sedan en lyckad (gränsen är %(limit)s)",
        "%(value)s failed logins, then a successful one (the limit is %(limit)s)",
    ),
}
# A rule without a sentence of its own (none today: a test checks every rule has one).
OTHER = ("%(value)s (gränsen är %(limit)s)", "%(value)s (the limit is %(limit)s)")

_STORED = re.compile(r"^([a-z_]+): ([0-9.e+]+) (\S+) \(limit ([0-9.e+]+)\)$")


@dataclass(frozen=True)
class Reason:
    """What a rule found: its code, the figure, the figure's unit and the limit reached."""

    rule: str
    value: float
    unit: str
    limit: float

    def __str__(self) -> str:
        """The stored form, for the machine: the code and the figures."""
        return f"{self.rule}: {self.value:g} {self.unit} (limit {self.limit:g})"

    @classmethod
    def parse(cls, text: str) -> Reason | None:
        """A stored reason read back; None for any other text."""
        found = _STORED.match(text)
        if found is None:
            return None
        rule, value, unit, limit = found.groups()
        try:
            return cls(rule, float(value), unit, float(limit))
        except ValueError:
            return None

    @property
    def message_id(self) -> str:
        """The sentence's English message id (the site's catalogue translates it)."""
        return SENTENCES.get(self.rule, OTHER)[1]

    @property
    def params(self) -> dict[str, str]:
        """The figures as the sentence shows them (kronor rounded to whole ones)."""
        return {"value": f"{round(self.value):d}", "limit": f"{round(self.limit):d}"}

    def sentences(self) -> tuple[str, str]:
        """(Swedish, English) sentences, for the mails."""
        sv, en = SENTENCES.get(self.rule, OTHER)
        return sv % self.params, en % self.params
