"""reminders of required training: the person's switch for them (user_preference.email_required)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_preference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_required', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_preference', schema=None) as batch_op:
        batch_op.drop_column('email_required')
