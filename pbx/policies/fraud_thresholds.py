"""Thresholds of the fraud rules, with defaults meant for a small Swedish company.

Every limit has an alert level (an alert in the operator console) and an optional hard cap
(above it the account is contained automatically). They come from defaults, then the
`[extra.fraud]` table of the configuration file, then `--set name.level=value` on the
command line, e.g.::

    [extra.fraud]
    intl_legs_user_hour = { alert = 5, hard_cap = 15 }
    business_hours = [7, 19]

Costs are estimates in SEK per minute by destination class (`pbx.policies.destinations`):
what a forwarded leg costs the company, so an alert can say "about 2 300 kr in one hour".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from pbx.errors import ValidationError

# SEK per connected minute, by destination class. Premium and satellite ranges are what
# IRSF pumps; they are refused by the guard but priced so a leak would still show.
DEFAULT_RATES: dict[str, float] = {
    "domestic_fixed": 0.2,
    "domestic_mobile": 0.4,
    "domestic_toll_free": 0.0,
    "international": 3.0,
    "premium": 20.0,
    "shared_cost": 1.0,
    "personal": 2.0,
    "uan": 0.5,
    "voip": 1.0,
    "satellite": 50.0,
    "international_network": 25.0,
    "unknown": 10.0,
}


@dataclass(frozen=True)
class Limit:
    alert: float
    hard_cap: float | None = None

    def level(self, value: float) -> str | None:
        """'hard_cap', 'alert' or None for a figure."""
        if self.hard_cap is not None and value >= self.hard_cap:
            return "hard_cap"
        return "alert" if value >= self.alert else None


@dataclass(frozen=True)
class Thresholds:
    # forwarded legs to another country (or a non-geographic network), connected or not
    intl_legs_user_hour: Limit = Limit(5, 15)
    intl_legs_user_day: Limit = Limit(20, 60)
    intl_legs_tenant_hour: Limit = Limit(20, 60)
    intl_legs_tenant_day: Limit = Limit(80, 250)
    # estimated cost (SEK) of connected forwarded legs
    cost_user_day: Limit = Limit(500, 2000)
    cost_tenant_day: Limit = Limit(2000, 10000)
    # outside legs within `change_follow_hours` of a forwarding change from a new IP or
    # outside business hours
    change_legs: Limit = Limit(1, 10)
    change_follow_hours: int = 24
    new_ip_lookback_days: int = 30
    # an IP first seen less than this long before the change is still new (the attacker
    # signs in, then changes the forwarding)
    new_ip_grace_hours: int = 12
    business_hours: tuple[int, int] = (7, 19)  # Europe/Stockholm, Monday–Friday
    # failed logins (password or code) of one account before a successful one
    failed_logins: Limit = Limit(10, None)
    failed_login_window_hours: int = 24
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))

    def rate(self, category: str) -> float:
        return float(self.rates.get(category, self.rates.get("unknown", 0.0)))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = vars(value) if isinstance(value, Limit) else value
        out["rates"] = dict(self.rates)
        return out


DEFAULTS = Thresholds()


def from_mapping(values: Mapping[str, Any], base: Thresholds = DEFAULTS) -> Thresholds:
    """Thresholds with `values` (a TOML table or parsed `--set` options) applied."""
    changes: dict[str, Any] = {}
    known = {f.name: f for f in fields(Thresholds)}
    for name, value in values.items():
        if name not in known:
            raise ValidationError("fraud", f"unknown fraud threshold {name!r}")
        current = getattr(base, name)
        changes[name] = _coerce(name, current, value)
    return replace(base, **changes)


def _coerce(name: str, current: Any, value: Any) -> Any:
    try:
        if isinstance(current, Limit):
            if isinstance(value, Mapping):
                parts: dict[str, Any] = {k: _number(v) for k, v in value.items()}
                return replace(current, **parts)
            return Limit(float(value), current.hard_cap)
        if name == "business_hours":
            start, end = (int(v) for v in value)
            return (start, end)
        if name == "rates":
            return {**current, **{k: float(v) for k, v in dict(value).items()}}
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("fraud", f"bad value for fraud threshold {name}: {exc}") from None


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and value.lower() in ("", "none", "off")):
        return None
    return float(value)


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """`name=value` and `name.alert=value` / `name.hard_cap=value` options as a mapping."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValidationError("set", f"expected name=value, not {pair!r}")
        name, _, part = key.strip().partition(".")
        if part:
            out.setdefault(name, {})[part] = value.strip()
        elif name == "business_hours":
            out[name] = value.strip().split("-")
        else:
            out[name] = value.strip()
    return out
