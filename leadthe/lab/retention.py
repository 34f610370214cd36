"""Retention of practice-lab runs: each company chooses how many days prompts and answers are kept
(``LabSettings.retention_days``, 0-365, default 30); ``leadthe retention`` deletes older runs.

One DELETE per distinct number of days (a handful), never one per company or per run. The cut-off is
computed in Python (``now - days``) and compared with the stored UTC timestamps, so SQLite and
PostgreSQL agree to the second.

- A grading run ("model feedback") goes with the answer run it grades, even though it was made later.
- A run still being generated is left alone for a day (0 days means "gone at the next run of retention
  once the answer is complete", not "pulled from under the worker"); a run stuck longer than that goes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from leadthe.extensions import db
from leadthe.models.enums import LabRunStatus
from leadthe.models.lab import DEFAULT_RETENTION_DAYS, LabRun, LabSettings

MAX_DAYS = 365
IN_FLIGHT = (LabRunStatus.QUEUED, LabRunStatus.RUNNING)
IN_FLIGHT_GRACE = timedelta(days=1)


def _clamped(days: int | None) -> int:
    if days is None:
        return DEFAULT_RETENTION_DAYS
    return max(0, min(MAX_DAYS, int(days)))


def _past(model, now: datetime, cutoff: datetime):
    """Made at or before ``cutoff``, and not still being generated (unless stuck for a day)."""
    return sa.and_(model.created_at <= cutoff,
                   sa.or_(model.status.not_in(IN_FLIGHT), model.created_at <= now - IN_FLIGHT_GRACE))


def _expired_condition(now: datetime, stored_days: int):
    """The runs of the companies whose setting is ``stored_days`` that are past it (with their gradings)."""
    orgs = sa.select(LabSettings.org_id).where(LabSettings.retention_days == stored_days)
    if stored_days == DEFAULT_RETENTION_DAYS:  # and every company that never saved lab settings
        in_scope = sa.or_(LabRun.org_id.in_(orgs), LabRun.org_id.not_in(sa.select(LabSettings.org_id)))
    else:
        in_scope = LabRun.org_id.in_(orgs)
    cutoff = now - timedelta(days=_clamped(stored_days))
    parent = aliased(LabRun)
    # a grading run is younger than the run it grades: it goes when that run goes
    graded_run_gone = LabRun.parent_id.in_(sa.select(parent.id).where(_past(parent, now, cutoff)))
    return sa.and_(in_scope, sa.or_(_past(LabRun, now, cutoff), graded_run_gone))


def expired_runs(now: datetime, dry_run: bool, keep=None, on_kept=None) -> int:
    """Delete (or count, with ``dry_run``) the runs older than their company's days. Runs of companies that
    never opened the lab settings are kept the default days. A grading run goes with the run it grades.
    ``keep``: a condition for runs to leave alone (a legal hold's), counted through ``on_kept``."""
    total = 0
    chosen = set(db.session.scalars(sa.select(LabSettings.retention_days).distinct()).all())
    for stored_days in sorted(chosen | {DEFAULT_RETENTION_DAYS}):
        condition = _expired_condition(now, stored_days)
        if keep is not None:
            on_kept(db.session.scalar(sa.select(sa.func.count()).select_from(LabRun).where(condition, keep)) or 0)
            condition = sa.and_(condition, ~keep)
        count = db.session.scalar(sa.select(sa.func.count()).select_from(LabRun).where(condition)) or 0
        if count and not dry_run:
            db.session.execute(sa.delete(LabRun).where(condition), execution_options={"synchronize_session": False})
            db.session.commit()
        total += count
    return total
