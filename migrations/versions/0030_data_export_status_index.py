"""data_export (status, id) index (issue 23): queue positions and retention without reading the whole table

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 20:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index('ix_data_export_status_id', ['status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index('ix_data_export_status_id')
