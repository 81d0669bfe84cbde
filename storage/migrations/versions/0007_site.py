"""site: forwarding notices ("this wasn't me" revert links) and the call-log page's indexes.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

from storage.models.base import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forwarding_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("changed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("reverted_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"], ["users.id"],
            name=op.f("fk_forwarding_notices_changed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_forwarding_notices_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_forwarding_notices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forwarding_notices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_forwarding_notices_token_hash")),
    )
    with op.batch_alter_table("forwarding_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forwarding_notices_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_forwarding_notices_user_id"), ["user_id"])
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.create_index("ix_call_log_tenant_caller", ["tenant_id", "caller"])
        batch_op.create_index("ix_call_log_tenant_callee", ["tenant_id", "callee"])
        batch_op.create_index("ix_call_log_user_started", ["user_id", "started_at"])


def downgrade() -> None:
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index("ix_call_log_user_started")
        batch_op.drop_index("ix_call_log_tenant_callee")
        batch_op.drop_index("ix_call_log_tenant_caller")
    with op.batch_alter_table("forwarding_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forwarding_notices_user_id"))
        batch_op.drop_index(batch_op.f("ix_forwarding_notices_tenant_id"))
    op.drop_table("forwarding_notices")
