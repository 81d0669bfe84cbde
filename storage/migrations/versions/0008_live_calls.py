"""live calls: the callback ("Spela in filen") and 333 sessions answered on the softphone.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

from storage.models.base import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_calls",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["message_slots.id"], name=op.f("fk_live_calls_slot_id_message_slots")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_live_calls_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_live_calls_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_calls")),
    )
    op.create_index(op.f("ix_live_calls_tenant_id"), "live_calls", ["tenant_id"])
    op.create_index(op.f("ix_live_calls_user_id"), "live_calls", ["user_id"])
    op.create_table(
        "live_call_takes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("take", sa.Integer(), nullable=False),
        sa.Column("master", sa.LargeBinary(), nullable=False),
        sa.Column("original", sa.LargeBinary(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["live_calls.id"], name=op.f("fk_live_call_takes_call_id_live_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_call_takes")),
    )
    op.create_index(op.f("ix_live_call_takes_call_id"), "live_call_takes", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_live_call_takes_call_id"), table_name="live_call_takes")
    op.drop_table("live_call_takes")
    op.drop_index(op.f("ix_live_calls_user_id"), table_name="live_calls")
    op.drop_index(op.f("ix_live_calls_tenant_id"), table_name="live_calls")
    op.drop_table("live_calls")
