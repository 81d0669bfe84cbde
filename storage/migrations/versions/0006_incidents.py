"""incidents: fraud alerts, forwarding blocks, the incident register, and call-log indexes
for the affected-caller query and the fraud scan (see storage/models/incidents.py).

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import storage.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fraud_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('hard_cap', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('window_start', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('window_end', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('handled_by_user_id', sa.Integer(), nullable=True),
    sa.Column('handled_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['handled_by_user_id'], ['users.id'], name=op.f('fk_fraud_alerts_handled_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_fraud_alerts_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_fraud_alerts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_alerts')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_fraud_alerts_dedupe_key'))
    )
    op.create_index('ix_fraud_alerts_status_created', 'fraud_alerts', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_fraud_alerts_tenant_id'), 'fraud_alerts', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_fraud_alerts_user_id'), 'fraud_alerts', ['user_id'], unique=False)
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('nature', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('started_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('discovered_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data_categories', sa.JSON(), nullable=False),
    sa.Column('subject_categories', sa.JSON(), nullable=False),
    sa.Column('approx_subjects', sa.Integer(), nullable=True),
    sa.Column('approx_records', sa.Integer(), nullable=True),
    sa.Column('consequences', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('subjects_informed', sa.String(length=10), nullable=False),
    sa.Column('subjects_informed_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('subjects_informed_how', sa.Text(), nullable=False),
    sa.Column('pts_reportable', sa.Boolean(), nullable=False),
    sa.Column('pts_reported_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('pts_reference', sa.String(length=60), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_incidents_created_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_table('forwarding_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('rules_off', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['fraud_alerts.id'], name=op.f('fk_forwarding_blocks_alert_id_fraud_alerts')),
    sa.ForeignKeyConstraint(['lifted_by_user_id'], ['users.id'], name=op.f('fk_forwarding_blocks_lifted_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_forwarding_blocks_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_forwarding_blocks_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forwarding_blocks'))
    )
    op.create_index(op.f('ix_forwarding_blocks_tenant_id'), 'forwarding_blocks', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_forwarding_blocks_user_id'), 'forwarding_blocks', ['user_id'], unique=False)
    op.create_table('incident_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('notified_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('reasoning', sa.Text(), nullable=False),
    sa.Column('imy_reported_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('imy_reference', sa.String(length=60), nullable=False),
    sa.Column('subjects_informed_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('media_baseline', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_incident_companies_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_companies_incident_id_incidents')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incident_companies_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_companies')),
    sa.UniqueConstraint('incident_id', 'tenant_id', name=op.f('uq_incident_companies_incident_id_tenant_id'))
    )
    op.create_index(op.f('ix_incident_companies_incident_id'), 'incident_companies', ['incident_id'], unique=False)
    op.create_index(op.f('ix_incident_companies_tenant_id'), 'incident_companies', ['tenant_id'], unique=False)
    op.create_index('ix_call_log_forwarded_started', 'call_log', ['started_at'], unique=False, sqlite_where=sa.text("direction = 'forwarded'"), postgresql_where=sa.text("direction = 'forwarded'"))
    op.create_index('ix_call_log_tenant_started_caller', 'call_log', ['tenant_id', 'started_at', 'caller'], unique=False)


def downgrade() -> None:
    op.drop_index("ix_call_log_tenant_started_caller", table_name="call_log")
    op.drop_index("ix_call_log_forwarded_started", table_name="call_log")
    op.drop_index(op.f("ix_incident_companies_tenant_id"), table_name="incident_companies")
    op.drop_index(op.f("ix_incident_companies_incident_id"), table_name="incident_companies")
    op.drop_table("incident_companies")
    op.drop_index(op.f("ix_forwarding_blocks_user_id"), table_name="forwarding_blocks")
    op.drop_index(op.f("ix_forwarding_blocks_tenant_id"), table_name="forwarding_blocks")
    op.drop_table("forwarding_blocks")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_fraud_alerts_user_id"), table_name="fraud_alerts")
    op.drop_index(op.f("ix_fraud_alerts_tenant_id"), table_name="fraud_alerts")
    op.drop_index("ix_fraud_alerts_status_created", table_name="fraud_alerts")
    op.drop_table("fraud_alerts")
