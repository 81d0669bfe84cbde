"""user sessions remember the call-log view they last had audited.

The call log audits a read once a minute per view; the check used to query the audit log on
every page view, and now reads the browser session row that signing in has loaded anyway.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

from storage.models.base import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("calllog_read_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("calllog_read_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("calllog_read_at")
        batch.drop_column("calllog_read_key")
