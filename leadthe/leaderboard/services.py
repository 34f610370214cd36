"""Leaderboard ranks in one statement: points per person aggregated in SQL, ranked with RANK() (a window
function, SQLite >= 3.25 and PostgreSQL), returning the top rows and the viewer's own row together.

People who object to leaderboards or restricted processing are left out of the computation itself (not
only hidden): they take no rank and push nobody down. Only active accounts take part.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from leadthe.admin import scores
from leadthe.extensions import db
from leadthe.models import ActivityDay, PrivacySettings, Team, TeamMembership, User, utcnow
from leadthe.models.enums import UserStatus
from leadthe.trust import works_council

POINTS_LESSON = 10
POINTS_PASSED = 50
POINTS_ACTIVE_DAY = 5
TOP = 10
ACTIVE_SECONDS = 60  # the same rule as the streak: a day counts with a lesson or a minute of learning


def excluded_ids() -> sa.Select:
    return sa.select(PrivacySettings.user_id).where(
        sa.or_(PrivacySettings.restrict_processing.is_(True), PrivacySettings.object_leaderboard.is_(True)))


def opted_in_ids() -> sa.Select:
    """People who chose to appear on leaderboards (what works-council mode asks for; off by default)."""
    return sa.select(PrivacySettings.user_id).where(PrivacySettings.leaderboard_opt_in.is_(True))


def week_start(day: date | None = None) -> date:
    day = day or utcnow().date()
    return day - timedelta(days=day.weekday())


@dataclass
class Entry:
    user_id: int
    name: str
    points: int
    lessons: int
    days: int
    passed: int
    rank: int


def viewer_teams(user) -> list[tuple[int, str]]:
    return db.session.execute(sa.select(Team.id, Team.name).join(TeamMembership, TeamMembership.team_id == Team.id)
                              .where(TeamMembership.user_id == user.id).order_by(Team.name)).all()


def ranking(viewer, *, scope: str = "org", period: str = "all", team_id: int | None = None) -> tuple[list[Entry], Entry | None]:
    """(top entries, the viewer's entry or None when the viewer takes no part)."""
    people = sa.select(User.id).where(User.org_id == viewer.org_id, User.status == UserStatus.ACTIVE, User.id.not_in(excluded_ids()))
    if works_council.active(viewer.org_id):  # works-council mode: only people who opted in (and do not object)
        people = people.where(User.id.in_(opted_in_ids()))
    if scope == "team" and team_id is not None:
        people = people.where(User.id.in_(sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)))
    AD = ActivityDay
    active_day = sa.case((sa.or_(AD.lessons_completed > 0, AD.seconds >= ACTIVE_SECONDS), 1), else_=0)
    act = sa.select(AD.user_id, sa.func.sum(AD.lessons_completed).label("lessons"), sa.func.sum(active_day).label("days")) \
        .where(AD.user_id.in_(people))
    since = week_start() if period == "week" else None
    if since is not None:
        act = act.where(AD.day >= since)
    act = act.group_by(AD.user_id).subquery()
    lessons = sa.func.coalesce(act.c.lessons, 0)
    days = sa.func.coalesce(act.c.days, 0)
    passed_q = scores.passed_counts(people, since=None if since is None else
                                    utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=utcnow().weekday()))
    passed = sa.func.coalesce(passed_q.c.passed, 0)
    points = (lessons * POINTS_LESSON + days * POINTS_ACTIVE_DAY + passed * POINTS_PASSED)
    scored = sa.select(User.id.label("user_id"), User.name, points.label("points"), lessons.label("lessons"),
                       days.label("days"), passed.label("passed")) \
        .where(User.id.in_(people)).outerjoin(act, act.c.user_id == User.id) \
        .outerjoin(passed_q, passed_q.c.user_id == User.id)
    scored = scored.subquery()
    ranked = sa.select(scored, sa.func.rank().over(order_by=scored.c.points.desc()).label("rank")).subquery()
    rows = db.session.execute(
        sa.select(ranked).where(sa.or_(ranked.c.rank <= TOP, ranked.c.user_id == viewer.id))
        .order_by(ranked.c.rank, ranked.c.name, ranked.c.user_id)).all()
    entries = [Entry(r.user_id, r.name, int(r.points), int(r.lessons), int(r.days), int(r.passed), int(r.rank)) for r in rows]
    mine = next((e for e in entries if e.user_id == viewer.id), None)
    top = [e for e in entries if e.rank <= TOP][:TOP * 2]
    return top, mine
