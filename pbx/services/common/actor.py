"""Who is doing something: carried into every service call for access checks and audit."""

from __future__ import annotations

from dataclasses import dataclass

from pbx.errors import PermissionDenied


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

    def require_admin(self, tenant_id: int | None, *owners: int | None) -> None:
        """The one check of an administrator's change: this actor manages `tenant_id` and
        each object's company in `owners` is that one; else PermissionDenied."""
        if (
            tenant_id is None
            or not self.can_manage_tenant(tenant_id)
            or any(owner != tenant_id for owner in owners)
        ):
            raise PermissionDenied("not an administrator of this company")

    def require_self_or_admin(self, user_id: int | None, tenant_id: int | None) -> None:
        """The one check of a change to a person's own things (forwarding, greeting, PIN,
        voicemail settings, picture, phone, do-not-disturb): that person, or an
        administrator of their company (`require_admin`)."""
        if user_id is None or self.user_id != user_id:
            self.require_admin(tenant_id)


# Scripts, fixtures and the CLI act as the system; audit entries say so.
SYSTEM = Actor(user_id=None, label="system", role="system")


def cli_actor(label: str = "cli") -> Actor:
    return Actor(user_id=None, label=label, role="system")
