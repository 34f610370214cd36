"""the new company's onboarding checklist: when the 2FA setting was decided and the checklist hidden

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("twofa_decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("onboarding_dismissed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("onboarding_dismissed_at")
        batch.drop_column("twofa_decided_at")
