"""roles, states and kinds stored as strings accept only their enum's values (CHECK constraints)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROLES = ("learner", "manager", "admin", "staff", "dpo")
# table -> {column: allowed values}; the same sets as leadthe/models/enums.py (a migration imports nothing of ours)
CHECKS = {
    "user_account": {"role": ROLES, "status": ("active", "deactivated", "locked", "erasure_pending", "closed")},
    "organization": {"status": ("active", "closed")},
    "invitation": {"role": ROLES[:3], "status": ("pending", "accepted", "revoked")},
    "privacy_request": {"kind": ("access", "portability", "rectification", "erasure", "restriction", "objection",
                                 "consent_withdrawal", "opt_out", "know", "question"),
                        "status": ("open", "scheduled", "in_progress", "completed", "rejected", "cancelled", "error")},
    "data_export": {"status": ("queued", "running", "ready", "failed", "expired")},
    "support_ticket": {"status": ("open", "waiting", "answered", "closed")},
    "job": {"status": ("pending", "running", "done", "failed")},
    "outbox_mail": {"status": ("pending", "sending", "sent", "failed")},
}


def _alter(table, change):
    """SQLite adds a CHECK by rebuilding the table, which drops the table's triggers: they are put back as
    they were (as in 0009)."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = [sql for (sql,) in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name", (table,))]
    with op.batch_alter_table(table, schema=None) as batch_op:
        change(batch_op)
    for sql in triggers:
        op.execute(sql)


def upgrade():
    for table, columns in CHECKS.items():
        def change(batch_op, table=table, columns=columns):
            for column, values in columns.items():
                allowed = ", ".join(f"'{value}'" for value in values)
                batch_op.create_check_constraint(batch_op.f(f"ck_{table}_{column}"), sa.text(f"{column} IN ({allowed})"))

        _alter(table, change)


def downgrade():
    for table, columns in CHECKS.items():
        def change(batch_op, table=table, columns=columns):
            for column in columns:
                batch_op.drop_constraint(batch_op.f(f"ck_{table}_{column}"), type_="check")

        _alter(table, change)
