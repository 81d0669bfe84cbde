"""Who is doing something: carried into every service call for access checks and audit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    role: str
    tenant_id: int | None = None
    ip: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role in ("operator", "system")

    def can_manage_tenant(self, tenant_id: int) -> bool:
        return self.is_operator or (self.role == "company_admin" and self.tenant_id == tenant_id)


# Scripts, fixtures and the CLI act as the system; audit entries say so.
SYSTEM = Actor(user_id=None, label="system", role="system")


def cli_actor(label: str = "cli") -> Actor:
    return Actor(user_id=None, label=label, role="system")
