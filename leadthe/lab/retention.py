"""Retention of practice-lab runs: each company chooses how many days prompts and answers are kept
(``LabSettings.retention_days``, 0-365, default 30); ``leadthe retention`` deletes older runs.

One DELETE per distinct number of days (a handful), never one per company or per run."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models.lab import DEFAULT_RETENTION_DAYS, LabRun, LabSettings


def expired_runs(now: datetime, dry_run: bool) -> int:
    """Delete (or count, with ``dry_run``) the runs older than their company's days. Runs of companies that
    never opened the lab settings are kept the default days. A grading run goes with the run it grades."""
    total = 0
    chosen = db.session.execute(sa.select(LabSettings.retention_days).distinct()).scalars().all()
    for days in sorted(set(chosen) | {DEFAULT_RETENTION_DAYS}):
        orgs = sa.select(LabSettings.org_id).where(LabSettings.retention_days == days)
        if days == DEFAULT_RETENTION_DAYS:  # and every company without settings
            in_scope = sa.or_(LabRun.org_id.in_(orgs), LabRun.org_id.not_in(sa.select(LabSettings.org_id)))
        else:
            in_scope = LabRun.org_id.in_(orgs)
        condition = sa.and_(in_scope, LabRun.created_at <= now - timedelta(days=days))
        count = db.session.scalar(sa.select(sa.func.count()).select_from(LabRun).where(condition)) or 0
        if count and not dry_run:
            db.session.execute(sa.delete(LabRun).where(condition), execution_options={"synchronize_session": False})
            db.session.commit()
        total += count
    return total
