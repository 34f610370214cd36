"""course addresses (slugs) unique per owner: the platform's courses, and each company's own

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PLATFORM_ONLY = sa.text("org_id IS NULL")


def _alter_course(change):
    """SQLite changes a constraint by rebuilding the table, which drops the table's triggers (the search
    index's, 0003): they are put back as they were."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = [sql for (sql,) in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'course' ORDER BY name")]
    with op.batch_alter_table("course", schema=None) as batch_op:
        change(batch_op)
    for sql in triggers:
        op.execute(sql)


def upgrade():
    def change(batch_op):
        batch_op.drop_constraint("uq_course_slug", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_course_org_id_slug"), ["org_id", "slug"])

    _alter_course(change)
    # NULLs are distinct in a unique constraint: the platform's courses (org_id NULL) get a partial index
    op.create_index("uq_course_platform_slug", "course", ["slug"], unique=True,
                    sqlite_where=PLATFORM_ONLY, postgresql_where=PLATFORM_ONLY)


def downgrade():
    # fails while two owners share an address: rename one of the courses first
    op.drop_index("uq_course_platform_slug", table_name="course")

    def change(batch_op):
        batch_op.drop_constraint(batch_op.f("uq_course_org_id_slug"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_course_slug"), ["slug"])

    _alter_course(change)
