"""incidents.subjects_informed holds "not_required" (12 characters): widen it to 20.

PostgreSQL refused the value in a varchar(10) (SQLite does not enforce the length), so an
incident whose data subjects need not be informed could not be saved there.

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column(
            "subjects_informed", type_=sa.String(20), existing_type=sa.String(10),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.alter_column(
            "subjects_informed", type_=sa.String(10), existing_type=sa.String(20),
            existing_nullable=False,
        )
