"""A requirement's status, computed in SQL from the requirement row alone, so every figure of the
programme (a person's list, a team's coverage, the company's overview) is one aggregate query.

- current: completed, and the completion has not expired (``valid_until`` NULL or in the future);
- overdue: not current and the due date has passed;
- due soon: not current and due within ``DUE_SOON_DAYS`` days;
- not started: not current and due later (or no due date).

A completion moves ``due_on`` to the refresh date (the date ``valid_until`` falls on), so an expired
completion is due again on that date without another column. Requirements whose person left the rule's
scope (``ended_at`` set) count nowhere.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from leadthe.models import Requirement, utcnow
from leadthe.models.enums import RequirementStatus

DUE_SOON_DAYS = 14
# works-council mode ("team figures only"): the smallest group shown
MIN_GROUP = 5

STATUSES = (RequirementStatus.CURRENT, RequirementStatus.DUE_SOON, RequirementStatus.OVERDUE, RequirementStatus.NOT_STARTED)


def status_expr(now: datetime | None = None):
    """A SQL CASE giving a requirement row's status (a RequirementStatus value) at ``now``."""
    now = now or utcnow()
    today = now.date()
    current = sa.and_(Requirement.completed_at.is_not(None),
                      sa.or_(Requirement.valid_until.is_(None), Requirement.valid_until > now))
    return sa.case(
        (current, sa.literal(RequirementStatus.CURRENT.value)),
        (Requirement.due_on < today, sa.literal(RequirementStatus.OVERDUE.value)),
        (Requirement.due_on <= today + timedelta(days=DUE_SOON_DAYS), sa.literal(RequirementStatus.DUE_SOON.value)),
        else_=sa.literal(RequirementStatus.NOT_STARTED.value),
    )


def in_force():
    """The rows that count: the requirement still applies to the person."""
    return Requirement.ended_at.is_(None)


def status_of(completed_at, valid_until, due_on, now: datetime | None = None) -> RequirementStatus:
    """The same rule in Python, for one row already loaded (a person's own list)."""
    now = now or utcnow()
    if completed_at is not None and (valid_until is None or valid_until > now):
        return RequirementStatus.CURRENT
    if due_on is not None and due_on < now.date():
        return RequirementStatus.OVERDUE
    if due_on is not None and due_on <= now.date() + timedelta(days=DUE_SOON_DAYS):
        return RequirementStatus.DUE_SOON
    return RequirementStatus.NOT_STARTED
