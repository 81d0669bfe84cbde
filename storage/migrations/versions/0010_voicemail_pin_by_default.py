"""companies choose whether 333 trusts a calling number without the PIN (off by default).

A calling number can be forged by anyone who can place a call, so the voicemail service asks
for the PIN unless the company turns this on knowingly.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column(
                "voicemail_trust_calling_number",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("voicemail_trust_calling_number")
