"""phones: SIP credentials per user and the registrations of their phones.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

from storage.models.base import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sip_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_encrypted", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_sip_accounts_tenant_id", "sip_accounts", ["tenant_id"])
    op.create_table(
        "phone_registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("contact", sa.String(255), nullable=False),
        sa.Column("transport", sa.String(3), nullable=False),
        sa.Column("host", sa.String(64), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("user_agent", sa.String(128), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_phone_registrations_user_expires", "phone_registrations", ["user_id", "expires_at"]
    )
    op.create_index("ix_phone_registrations_tenant_id", "phone_registrations", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("phone_registrations")
    op.drop_table("sip_accounts")
