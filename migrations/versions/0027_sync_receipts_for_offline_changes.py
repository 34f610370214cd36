"""sync receipts for offline changes (issue 22): one row per person and browser-given id of a change made offline
and sent later, so each change counts exactly once; kept 30 days

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 03:48:20.595869

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sync_receipt_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_receipt')),
    sa.UniqueConstraint('user_id', 'client_id', name=op.f('uq_sync_receipt_user_id_client_id'))
    )
    with op.batch_alter_table('sync_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_receipt_received_at'), ['received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('sync_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_receipt_received_at'))

    op.drop_table('sync_receipt')
