"""ownership notices: a notice's kind (general | ownership), the new owner, the date of the transfer and a
contact; notice_dismissal records who closed a notice shown on every page

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-07 00:44:43.793595

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_dismissal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_dismissal_notice_id_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notice_dismissal_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_dismissal')),
    sa.UniqueConstraint('notice_id', 'user_id', name=op.f('uq_notice_dismissal_notice_id_user_id'))
    )
    with op.batch_alter_table('notice_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_dismissal_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='general', nullable=False))
        batch_op.add_column(sa.Column('new_owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('transfer_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(op.f('ck_notice_kind'), "kind IN ('general', 'ownership')")



def downgrade():
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notice_kind'), type_='check')
        batch_op.drop_column('contact')
        batch_op.drop_column('transfer_on')
        batch_op.drop_column('new_owner')
        batch_op.drop_column('kind')

    with op.batch_alter_table('notice_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_dismissal_user_id'))

    op.drop_table('notice_dismissal')
