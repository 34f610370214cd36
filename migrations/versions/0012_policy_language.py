"""policy translations: a version of the privacy policy, cookie policy or terms in another language
(the English text stays authoritative)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-21 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['policy_document.id'], name=op.f('fk_policy_translation_document_id_policy_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_translation')),
    sa.UniqueConstraint('document_id', 'locale', name=op.f('uq_policy_translation_document_id_locale'))
    )


def downgrade():
    op.drop_table('policy_translation')
