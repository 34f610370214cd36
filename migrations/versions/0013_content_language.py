"""the curriculum in other languages: one content_translation row per translated course, module, lesson,
quiz, question or choice and language

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("entity IN ('course', 'module', 'lesson', 'quiz', 'question', 'choice')",
                           name=op.f("ck_content_translation_entity")),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_content_translation_course_id_course"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_translation")),
        sa.UniqueConstraint("entity", "entity_id", "lang", name=op.f("uq_content_translation_entity_entity_id_lang")),
    )
    with op.batch_alter_table("content_translation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_translation_course_id"), ["course_id"], unique=False)
        batch_op.create_index("ix_content_translation_lang", ["lang"], unique=False)


def downgrade():
    with op.batch_alter_table("content_translation", schema=None) as batch_op:
        batch_op.drop_index("ix_content_translation_lang")
        batch_op.drop_index(batch_op.f("ix_content_translation_course_id"))
    op.drop_table("content_translation")
