"""voicemail settings (greeting-only, e-mail on new messages), outbox attachments and site
links, and the queue a call-log leg rang from (call statistics per queue).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemail_boxes") as batch:
        batch.add_column(
            sa.Column("greeting_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("email_notify", sa.String(length=8), nullable=False, server_default="off")
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("attachment_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("link_path", sa.String(length=200), nullable=True))
    with op.batch_alter_table("call_log") as batch:
        batch.add_column(sa.Column("queue_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_log") as batch:
        batch.drop_column("queue_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("link_path")
        batch.drop_column("attachment_name")
        batch.drop_column("attachment_sha256")
    with op.batch_alter_table("voicemail_boxes") as batch:
        batch.drop_column("email_notify")
        batch.drop_column("greeting_only")
