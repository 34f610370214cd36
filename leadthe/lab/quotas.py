"""Quotas and usage: tokens per person per day and per company per month (provider usage, or an estimate
when the provider reports none), recorded per person and day in ``LabUsage``. (Issue 18, runner part.)

Days and months are UTC ones. A quota counts the runs that have finished (the runner records each one as
it ends), so prompts sent at the same moment may go a little over it, by at most one answer each.
A quota of 0 lets nobody send a prompt.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask_babel import gettext as _

from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.i18n import format_day, format_locale, format_when
from leadthe.models.base import utcnow
from leadthe.models.lab import LabUsage


def _month(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def used(settings, user, now: datetime | None = None) -> tuple[int, int]:
    """(the person's tokens today, the company's tokens this calendar month), in one query."""
    today = (now or utcnow()).date()
    start, end = _month(today)
    person = sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LabUsage.user_id == user.id, LabUsage.day == today), LabUsage.tokens), else_=0)), 0)
    company = sa.func.coalesce(sa.func.sum(LabUsage.tokens), 0)
    row = db.session.execute(sa.select(person, company).where(
        LabUsage.org_id == settings.org_id, LabUsage.day >= start, LabUsage.day < end)).one()
    return int(row[0]), int(row[1])


def refusal(settings, user, now: datetime | None = None) -> str | None:
    """None when ``user`` may send another prompt now, else the message saying which quota is reached
    (and when it resets)."""
    now = now or utcnow()
    person, company = used(settings, user, now)
    if company >= settings.company_monthly_tokens:
        next_month = _month(now.date())[1]
        return _("Your company has used its %(limit)s tokens for this month, so no more prompts can be sent. "
                 "The quota starts again on %(day)s; your company's admin can raise it.",
                 limit=format_decimal(settings.company_monthly_tokens, locale=format_locale()), day=format_day(next_month))
    if person >= settings.person_daily_tokens:
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=timezone.utc)
        return _("You have used your %(limit)s tokens for today. You can send prompts again from %(when)s (UTC).",
                 limit=format_decimal(settings.person_daily_tokens, locale=format_locale()), when=format_when(tomorrow))
    return None


def _add(org_id: int, user_id: int, day: date, *, tokens: int = 0, calls: int = 0, passed: int = 0,
         score: int | None = None) -> None:
    """One statement: the person's row for the day is created or added to (safe when two runs end at once)."""
    insert = upsert(LabUsage).values(org_id=org_id, user_id=user_id, day=day, tokens=tokens, calls=calls,
                              exercises_passed=passed, best_score=score)
    changes = {"tokens": LabUsage.tokens + insert.excluded.tokens, "calls": LabUsage.calls + insert.excluded.calls,
               "exercises_passed": LabUsage.exercises_passed + insert.excluded.exercises_passed}
    if score is not None:
        changes["best_score"] = sa.case(
            (sa.or_(LabUsage.best_score.is_(None), LabUsage.best_score < insert.excluded.best_score),
             insert.excluded.best_score), else_=LabUsage.best_score)
    db.session.execute(insert.on_conflict_do_update(index_elements=["org_id", "user_id", "day"], set_=changes))


def record(run, now: datetime | None = None) -> None:
    """Count a finished run: its tokens (reported or estimated) and one call, on the person's row for the day."""
    when = run.finished_at or now or utcnow()
    _add(run.org_id, run.user_id, when.date(), tokens=(run.tokens_in or 0) + (run.tokens_out or 0), calls=1)


def record_pass(user, score: int, now: datetime | None = None) -> None:
    """Count an exercise passed (call it once, when the person first passes it) and keep the day's best score."""
    _add(user.org_id, user.id, (now or utcnow()).date(), passed=1, score=int(score))
