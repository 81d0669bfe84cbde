"""opening hours and holidays (per company, per number; closed branches on numbers and IVR
keys), ring groups and queue strategies (ring time, position announcements, message on hold),
do-not-disturb.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_CLOSED = ("closed_kind", "closed_user_id", "closed_ivr_id", "closed_queue_id",
           "closed_external", "closed_slot_id")


def _closed_columns(batch: object, table: str) -> None:
    batch.add_column(sa.Column("closed_kind", sa.String(length=12), nullable=True))
    batch.add_column(sa.Column("closed_user_id", sa.Integer(), nullable=True))
    batch.add_column(sa.Column("closed_ivr_id", sa.Integer(), nullable=True))
    batch.add_column(sa.Column("closed_queue_id", sa.Integer(), nullable=True))
    batch.add_column(sa.Column("closed_external", sa.String(length=16), nullable=True))
    batch.add_column(sa.Column("closed_slot_id", sa.Integer(), nullable=True))
    batch.create_foreign_key(f"fk_{table}_closed_user_id_users", "users", ["closed_user_id"], ["id"])
    batch.create_foreign_key(
        f"fk_{table}_closed_ivr_id_ivr_menus", "ivr_menus", ["closed_ivr_id"], ["id"]
    )
    batch.create_foreign_key(
        f"fk_{table}_closed_queue_id_queues", "queues", ["closed_queue_id"], ["id"]
    )
    batch.create_foreign_key(
        f"fk_{table}_closed_slot_id_message_slots", "message_slots", ["closed_slot_id"], ["id"]
    )
    batch.create_index(f"ix_{table}_closed_slot_id", ["closed_slot_id"])


def upgrade() -> None:
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("number_id", sa.Integer(), sa.ForeignKey("phone_numbers.id"), nullable=True),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("open_holidays", sa.JSON(), nullable=False),
        sa.Column("closed_days", sa.JSON(), nullable=False),
        sa.UniqueConstraint("tenant_id", "number_id"),
    )
    op.create_index("ix_opening_hours_tenant_id", "opening_hours", ["tenant_id"])
    op.create_index("ix_opening_hours_number_id", "opening_hours", ["number_id"])
    with op.batch_alter_table("phone_numbers") as batch:
        _closed_columns(batch, "phone_numbers")
    with op.batch_alter_table("ivr_options") as batch:
        _closed_columns(batch, "ivr_options")
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="queue")
        )
        batch.add_column(
            sa.Column("strategy", sa.String(length=12), nullable=False, server_default="in_order")
        )
        batch.add_column(sa.Column("ring_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("announce_position", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("hold_slot_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_queues_hold_slot_id_message_slots", "message_slots", ["hold_slot_id"], ["id"]
        )
        batch.create_index("ix_queues_hold_slot_id", ["hold_slot_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("dnd", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("dnd")
    with op.batch_alter_table("queues") as batch:
        batch.drop_index("ix_queues_hold_slot_id")
        batch.drop_constraint("fk_queues_hold_slot_id_message_slots", type_="foreignkey")
        for column in ("hold_slot_id", "announce_position", "ring_seconds", "strategy", "kind"):
            batch.drop_column(column)
    for table in ("ivr_options", "phone_numbers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_closed_slot_id")
            for target in ("user_id_users", "ivr_id_ivr_menus", "queue_id_queues",
                           "slot_id_message_slots"):
                batch.drop_constraint(f"fk_{table}_closed_{target}", type_="foreignkey")
            for column in reversed(_CLOSED):
                batch.drop_column(column)
    op.drop_index("ix_opening_hours_number_id", table_name="opening_hours")
    op.drop_index("ix_opening_hours_tenant_id", table_name="opening_hours")
    op.drop_table("opening_hours")
