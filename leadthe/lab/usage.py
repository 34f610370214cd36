"""Use of the practice lab per month by team, for the company's admins: counts only (tokens, calls, exercises
passed, people active), never a prompt or an answer, never a row per person.

One aggregate query over ``LabUsage`` joined to team memberships for the last months (a person in two teams
counts in both; people in no team are the "no team" row), and one for the current month's company total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from babel.dates import format_skeleton

from leadthe.i18n import format_locale

from leadthe.extensions import db
from leadthe.models import Team, TeamMembership
from leadthe.models.lab import LabUsage

MONTHS = 6


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first day of this month and of the ``months - 1`` before it, newest first."""
    starts, year, month = [], today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts


@dataclass
class TeamUse:
    team: str | None  # None: people in no team
    tokens: int = 0
    calls: int = 0
    passed: int = 0
    people: int = 0
    team_id: int | None = None
    hidden: bool = False  # works-council mode: a group of fewer than MIN_GROUP people, no figures shown


@dataclass
class MonthUse:
    month: date
    teams: list[TeamUse] = field(default_factory=list)

    @property
    def label(self) -> str:
        """"December 2026", "Dezember 2026"."""
        return format_skeleton("yMMMM", self.month, locale=format_locale())


def by_team(org_id: int, today: date, months: int = MONTHS) -> list[MonthUse]:
    """The months (newest first) that had any use, each with its teams (by name, "no team" last)."""
    starts = month_starts(today, months)
    month_index = sa.case(*[(LabUsage.day >= start, i) for i, start in enumerate(starts)], else_=None)
    stmt = (
        sa.select(month_index.label("m"), Team.id, Team.name,
                  sa.func.coalesce(sa.func.sum(LabUsage.tokens), 0), sa.func.coalesce(sa.func.sum(LabUsage.calls), 0),
                  sa.func.coalesce(sa.func.sum(LabUsage.exercises_passed), 0), sa.func.count(sa.distinct(LabUsage.user_id)))
        .select_from(LabUsage)
        .outerjoin(TeamMembership, sa.and_(TeamMembership.user_id == LabUsage.user_id, TeamMembership.org_id == org_id))
        .outerjoin(Team, Team.id == TeamMembership.team_id)
        .where(LabUsage.org_id == org_id, LabUsage.day >= starts[-1])
        .group_by(month_index, Team.id, Team.name)
    )
    grouped: dict[int, list[TeamUse]] = {}
    for m, team_id, name, tokens, calls, passed, people in db.session.execute(stmt):
        if m is None:
            continue
        grouped.setdefault(int(m), []).append(TeamUse(name if team_id is not None else None, int(tokens), int(calls),
                                                      int(passed), int(people), team_id))
    result = []
    for i in sorted(grouped):
        rows = sorted(grouped[i], key=lambda r: (r.team is None, (r.team or "").casefold()))
        result.append(MonthUse(starts[i], rows))
    return result


def company_month_tokens(org_id: int, today: date) -> int:
    """Tokens the whole company used this month (what the monthly quota counts)."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LabUsage.tokens), 0)).where(
        LabUsage.org_id == org_id, LabUsage.day >= today.replace(day=1))) or 0)
