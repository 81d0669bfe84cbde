"""backups: restore-drill results, per drill and per company (for the operator pages).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import storage.models.base


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backup_drills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('backup_id', sa.String(length=64), nullable=False),
    sa.Column('backup_created_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('restorable', sa.Boolean(), nullable=False),
    sa.Column('calls_checked', sa.Boolean(), nullable=False),
    sa.Column('certificate', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_drills'))
    )
    with op.batch_alter_table('backup_drills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_drills_backup_id'), ['backup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_drills_finished_at'), ['finished_at'], unique=False)

    op.create_table('backup_drill_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_slug', sa.String(length=40), nullable=False),
    sa.Column('tenant_name', sa.String(length=200), nullable=False),
    sa.Column('restorable', sa.Boolean(), nullable=False),
    sa.Column('media_checked', sa.Integer(), nullable=False),
    sa.Column('media_problems', sa.Integer(), nullable=False),
    sa.Column('numbers', sa.Integer(), nullable=False),
    sa.Column('ivr_options', sa.Integer(), nullable=False),
    sa.Column('test_calls', sa.Integer(), nullable=False),
    sa.Column('test_calls_ok', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['drill_id'], ['backup_drills.id'], name=op.f('fk_backup_drill_companies_drill_id_backup_drills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_drill_companies'))
    )
    with op.batch_alter_table('backup_drill_companies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_drill_companies_drill_id'), ['drill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_drill_companies_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backup_drill_companies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_drill_companies_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_backup_drill_companies_drill_id'))
    op.drop_table('backup_drill_companies')
    with op.batch_alter_table('backup_drills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_drills_finished_at'))
        batch_op.drop_index(batch_op.f('ix_backup_drills_backup_id'))
    op.drop_table('backup_drills')
