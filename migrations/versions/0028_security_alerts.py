"""signs of attack for staff (issue 23, alerts): security alerts, failed log-ins counted per network (kept a day),
and the networks each SCIM token was used from

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('security_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_ref', sa.String(length=64), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_security_alert_acknowledged_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_security_alert_closed_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_alert'))
    )
    with op.batch_alter_table('security_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_alert_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_alert_status'), ['status'], unique=False)
        batch_op.create_index('ix_security_alert_kind_network', ['kind', 'network'], unique=False)

    op.create_table('security_signal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('account_key', sa.String(length=80), nullable=False),
    sa.Column('audit_event_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_signal'))
    )
    with op.batch_alter_table('security_signal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_signal_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_security_signal_kind_network_at', ['kind', 'network', 'created_at'], unique=False)

    op.create_table('credential_network',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_credential_network_org_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_network')),
    sa.UniqueConstraint('kind', 'credential_id', 'network', name=op.f('uq_credential_network_kind_credential_id_network'))
    )
    with op.batch_alter_table('credential_network', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_network_org_id'), ['org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('credential_network', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_network_org_id'))
    op.drop_table('credential_network')
    with op.batch_alter_table('security_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_security_signal_kind_network_at')
        batch_op.drop_index(batch_op.f('ix_security_signal_created_at'))
    op.drop_table('security_signal')
    with op.batch_alter_table('security_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_security_alert_kind_network')
        batch_op.drop_index(batch_op.f('ix_security_alert_status'))
        batch_op.drop_index(batch_op.f('ix_security_alert_actor_id'))
    op.drop_table('security_alert')
