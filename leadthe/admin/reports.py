"""Read models of the admin area: people's progress, team against team, the adoption dashboard, usage
analytics and the CSV reports. Every function runs a fixed number of aggregate statements, restricted
to the people in view (a SELECT of user ids), whatever the size of the company."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe.admin import scores
from leadthe.admin.access import is_admin, managed_team_ids, scope_user_ids
from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.i18n import format_short_day
from leadthe.models import (ActivityDay, Course, Enrollment, LessonCompletion, PageView, Quiz, QuizAttempt, SearchQuery, Team,
                            TeamMembership, User, utcnow)
from leadthe.models.enums import UserStatus
from leadthe.trust import works_council

K_ANONYMITY = 5  # managers never see an aggregate that stands for fewer people than this


def today() -> date:
    return utcnow().date()


def month_start(day: date) -> date:
    return day.replace(day=1)


# --- people's progress ------------------------------------------------------------------------------

def progress_stmt(members: sa.Select, *, day: date | None = None) -> sa.Select:
    """One row per person in ``members``: lessons completed, courses enrolled/completed, time this month,
    latest quiz score and maturity level (the last two None when the assessments area is missing)."""
    day = day or today()
    lessons = (sa.select(LessonCompletion.user_id, sa.func.count().label("lessons"))
               .where(LessonCompletion.user_id.in_(members)).group_by(LessonCompletion.user_id).subquery())
    courses = (sa.select(Enrollment.user_id, sa.func.count().label("enrolled"),
                         sa.func.count(Enrollment.completed_at).label("courses_done"))
               .where(Enrollment.user_id.in_(members)).group_by(Enrollment.user_id).subquery())
    month = (sa.select(ActivityDay.user_id, sa.func.sum(ActivityDay.seconds).label("month_seconds"))
             .where(ActivityDay.day >= month_start(day), ActivityDay.user_id.in_(members))
             .group_by(ActivityDay.user_id).subquery())
    cols = [User.id, User.name, User.email, User.role, User.status, User.last_seen_at,
            sa.func.coalesce(lessons.c.lessons, 0).label("lessons"),
            sa.func.coalesce(courses.c.enrolled, 0).label("enrolled"),
            sa.func.coalesce(courses.c.courses_done, 0).label("courses_done"),
            sa.func.coalesce(month.c.month_seconds, 0).label("month_seconds")]
    stmt = (sa.select(*cols).where(User.id.in_(members))
            .outerjoin(lessons, lessons.c.user_id == User.id)
            .outerjoin(courses, courses.c.user_id == User.id)
            .outerjoin(month, month.c.user_id == User.id))
    score = scores.latest_score(members)
    stmt = stmt.add_columns(score.c.latest_score).outerjoin(score, score.c.user_id == User.id)
    level = scores.maturity_level(members)
    return stmt.add_columns(level.c.maturity).outerjoin(level, level.c.user_id == User.id)


def team_members(team: Team, viewer) -> list:
    members = scope_user_ids(viewer, team_id=team.id)
    managers = sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team.id, TeamMembership.is_manager.is_(True))
    if works_council.active_for(viewer):  # the members by name only, for the team's administration: no figures
        return db.session.execute(sa.select(User.id, User.name, User.id.in_(managers).label("is_manager"))
                                  .where(User.id.in_(members)).order_by(User.name, User.id)).all()
    stmt = progress_stmt(members).add_columns(User.id.in_(managers).label("is_manager")).order_by(User.name, User.id)
    return db.session.execute(stmt).all()


def person_courses(person: User) -> list:
    done = (sa.select(LessonCompletion.course_id, sa.func.count().label("done"))
            .where(LessonCompletion.user_id == person.id).group_by(LessonCompletion.course_id).subquery())
    rows = db.session.execute(
        sa.select(Course.title, Course.lesson_count, sa.func.coalesce(done.c.done, 0), Enrollment.created_at, Enrollment.completed_at,
                  Course.id)
        .join(Enrollment, Enrollment.course_id == Course.id).outerjoin(done, done.c.course_id == Course.id)
        .where(Enrollment.user_id == person.id).order_by(Enrollment.created_at.desc())).all()
    return [(title_of("course", row[5], row[0]), *row[1:5]) for row in rows]


def person_summary(person: User):
    return db.session.execute(progress_stmt(sa.select(sa.literal(person.id)))).one()


def person_attempts(person: User) -> list:
    A, Q = QuizAttempt, Quiz
    return db.session.execute(sa.select(Q.title, A.score, A.passed, A.created_at).join(Q, Q.id == A.quiz_id)
                              .where(A.user_id == person.id).order_by(A.created_at.desc()).limit(10)).all()


# --- team against team ------------------------------------------------------------------------------

@dataclass
class TeamRow:
    id: int
    name: str
    members: int
    managers: int
    active_month: int
    lessons: int
    month_minutes: int
    avg_score: float | None
    hidden: bool = False  # works-council mode: fewer than MIN_GROUP members, no figures shown

    @property
    def active_percent(self) -> int:
        return round(100 * self.active_month / self.members) if self.members else 0

    @property
    def lessons_per_member(self) -> float:
        return round(self.lessons / self.members, 1) if self.members else 0.0


TEAMS_PER_PAGE = 50


def teams_overview(viewer, page: int = 1, q: str = "") -> tuple[list[TeamRow], int]:
    """The teams in view with their figures for this month, one page at a time (4 statements)."""
    teams = sa.select(Team.id, Team.name).where(Team.org_id == viewer.org_id)
    if not is_admin(viewer):
        teams = teams.where(Team.id.in_(managed_team_ids(viewer)))
    if q:
        teams = teams.where(Team.name.ilike(f"%{q}%"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(teams.subquery()))
    page_rows = db.session.execute(teams.order_by(Team.name).offset((page - 1) * TEAMS_PER_PAGE).limit(TEAMS_PER_PAGE)).all()
    ids = [r.id for r in page_rows]
    if not ids:
        return [], total
    counts, activity, avg_scores = _team_figures(viewer.org_id, ids, today())
    rows = [_team_row(r, counts.get(r.id), activity.get(r.id), avg_scores.get(r.id)) for r in page_rows]
    if works_council.active_for(viewer):
        rows = [TeamRow(r.id, r.name, 0, 0, 0, 0, 0, None, hidden=True) if works_council.too_small(r.members) else r
                for r in rows]
    return rows, total


def _team_figures(org_id: int, ids: list[int], day: date) -> tuple[dict, dict, dict]:
    """By team id: member and manager counts, this month's activity, and the average quiz score (3 statements)."""
    tm = TeamMembership
    active_people = sa.select(User.id).where(User.org_id == org_id, User.status == UserStatus.ACTIVE)
    members = (sa.select(tm.team_id, sa.func.count().label("members"),
                         sa.func.sum(sa.case((tm.is_manager.is_(True), 1), else_=0)).label("managers"))
               .where(tm.team_id.in_(ids), tm.user_id.in_(active_people)).group_by(tm.team_id))
    counts = {r.team_id: r for r in db.session.execute(members)}
    act = (sa.select(tm.team_id, sa.func.count(sa.distinct(ActivityDay.user_id)).label("active"),
                     sa.func.sum(ActivityDay.lessons_completed).label("lessons"), sa.func.sum(ActivityDay.seconds).label("secs"))
           .join(ActivityDay, ActivityDay.user_id == tm.user_id)
           .where(tm.team_id.in_(ids), ActivityDay.day >= month_start(day), tm.user_id.in_(active_people))
           .group_by(tm.team_id))
    activity = {r.team_id: r for r in db.session.execute(act)}
    A = QuizAttempt
    avg_scores = dict(db.session.execute(
        sa.select(tm.team_id, sa.func.avg(A.score)).join(A, A.user_id == tm.user_id)
        .where(tm.team_id.in_(ids), tm.user_id.in_(active_people)).group_by(tm.team_id)).all())
    return counts, activity, avg_scores


def _team_row(r, c, a, avg_score) -> TeamRow:
    return TeamRow(r.id, r.name, int(c.members) if c else 0, int(c.managers or 0) if c else 0,
                   int(a.active) if a else 0, int(a.lessons or 0) if a else 0, int((a.secs or 0) // 60) if a else 0,
                   round(float(avg_score), 1) if avg_score is not None else None)


# --- the adoption dashboard -------------------------------------------------------------------------

@dataclass
class Dashboard:
    people: int = 0
    active_today: int = 0
    active_week: int = 0
    active_month: int = 0
    daily: list = field(default_factory=list)  # (day, active people, minutes, lessons)
    weekly: list = field(default_factory=list)  # (week start, active people, minutes, lessons)
    enrolled_people: int = 0
    enrollments: int = 0
    completions: int = 0
    courses: list = field(default_factory=list)  # (title, enrolled, completed)
    avg_score: float | None = None
    attempts: int = 0
    maturity: list = field(default_factory=list)  # (dimension label, [people at level 1..5] or None when hidden)
    council: bool = False  # works-council mode: groups under MIN_GROUP are hidden
    hidden_courses: int = 0  # works-council mode: courses left out for fewer than MIN_GROUP people enrolled

    @property
    def too_small(self) -> bool:
        """Works-council mode and fewer than MIN_GROUP people in view: no figure at all is shown."""
        return self.council and works_council.too_small(self.people)

    @property
    def daily_chart(self) -> list[tuple[str, int]]:
        return [(format_short_day(day), n) for day, n, _m, _l in self.daily]

    @property
    def weekly_chart(self) -> list[tuple[str, int]]:
        return [(format_short_day(day), n) for day, n, _m, _l in self.weekly]

    @property
    def enrolment_rate(self) -> int:
        return round(100 * self.enrolled_people / self.people) if self.people else 0

    @property
    def completion_rate(self) -> int:
        return round(100 * self.completions / self.enrollments) if self.enrollments else 0


WEEKS = 12
DAYS = 30


def dashboard(viewer, team_id: int | None = None) -> Dashboard:
    day = today()
    members = scope_user_ids(viewer, team_id=team_id)
    d = Dashboard(council=works_council.active_for(viewer))
    d.people = db.session.scalar(sa.select(sa.func.count()).select_from(members.subquery()))
    if d.too_small:
        return d  # nothing else is read: the page says the group is too small
    _dashboard_activity(d, members, day)
    courses = [(title_of("course", cid, title), n, done)  # the titles in the reader's language
               for title, n, done, cid in db.session.execute(_course_enrolments(members))]
    if d.council:
        kept = [c for c in courses if works_council.shown(c[1])]
        d.hidden_courses, courses = len(courses) - len(kept), kept
    d.enrollments = sum(int(c[1]) for c in courses)
    d.completions = sum(int(c[2]) for c in courses)
    d.courses = sorted(courses, key=lambda c: (-c[1], c[0]))[:15]
    d.enrolled_people = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.id.in_(members), sa.exists().where(Enrollment.user_id == User.id)))
    avg = scores.average_score(members)
    if avg is not None:
        value, d.attempts = db.session.execute(avg).one()
        d.avg_score = round(float(value), 1) if value is not None else None
    d.maturity = _dashboard_maturity(members)
    if d.council:
        d.maturity = [(label, counts if works_council.shown(sum(counts)) else None) for label, counts in d.maturity]
    return d


def _activity_per_day(members: sa.Select, since: date) -> sa.Select:
    """Per day from ``since``: active people, seconds and lessons completed."""
    AD = ActivityDay
    return (sa.select(AD.day, sa.func.count(), sa.func.sum(AD.seconds), sa.func.sum(AD.lessons_completed))
            .where(AD.day >= since, AD.user_id.in_(members)).group_by(AD.day))


def _course_enrolments(members: sa.Select) -> sa.Select:
    """Per course: its title, how many of ``members`` are enrolled and how many completed it."""
    return (sa.select(Course.title, sa.func.count().label("n"), sa.func.count(Enrollment.completed_at), Course.id)
            .join(Course, Course.id == Enrollment.course_id).where(Enrollment.user_id.in_(members))
            .group_by(Course.id, Course.title))


def _dashboard_activity(d: Dashboard, members: sa.Select, day: date) -> None:
    """The active people (today, this week, this month), the daily chart and the weekly trend."""
    AD = ActivityDay
    since = day - timedelta(days=DAYS - 1)
    row = db.session.execute(sa.select(
        sa.func.count(sa.distinct(sa.case((AD.day == day, AD.user_id)))),
        sa.func.count(sa.distinct(sa.case((AD.day >= day - timedelta(days=6), AD.user_id)))),
        sa.func.count(sa.distinct(AD.user_id)),
    ).where(AD.day >= since, AD.day <= day, AD.user_id.in_(members))).one()
    d.active_today, d.active_week, d.active_month = (int(x or 0) for x in row)
    # one scan of the last 12 weeks per day: the daily chart (last 30 days) and the weekly trend are
    # both read from it (the weekly trend counts learning days, people x days, per week)
    first_week = day - timedelta(days=day.weekday()) - timedelta(weeks=WEEKS - 1)
    per_day = {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in db.session.execute(
        _activity_per_day(members, first_week).where(AD.day <= day))}
    d.daily = [(x, *(lambda v: (v[0], v[1] // 60, v[2]))(per_day.get(x, (0, 0, 0)))) for x in (since + timedelta(days=i) for i in range(DAYS))]
    for w in range(WEEKS):
        start = first_week + timedelta(weeks=w)
        rows = [per_day.get(start + timedelta(days=i), (0, 0, 0)) for i in range(7)]
        d.weekly.append((start, sum(r[0] for r in rows), sum(r[1] for r in rows) // 60, sum(r[2] for r in rows)))


def _dashboard_maturity(members: sa.Select) -> list:
    """(dimension label, [people at level 1..5]) with the overall level first."""
    dist = scores.maturity_distribution(members)
    labels = dict(scores.maturity_dimensions())
    found: dict[str, list[int]] = {}
    for dim, lvl, n in db.session.execute(dist):
        if lvl is not None and 1 <= int(lvl) <= 5:
            found.setdefault(dim, [0] * 5)[int(lvl) - 1] += int(n)
    order = ["overall"] + list(labels)
    return [(_l("Overall level") if k == "overall" else labels.get(k, k), found.get(k, [0] * 5)) for k in order]


# --- usage analytics -----------------------------------------------------------------------------------

@dataclass
class Usage:
    features: list
    searches: list
    devices: list
    browsers: list
    k_applied: bool


def usage(viewer, days: int = 30) -> Usage:
    """Feature use, search terms and devices of the last ``days`` days. Page views and searches exist
    only for people who consented (the analytics gate); for managers each figure must stand for at least
    K_ANONYMITY people, or it is left out."""
    since = utcnow() - timedelta(days=days)
    members = scope_user_ids(viewer)
    managers_view = not is_admin(viewer) or works_council.active_for(viewer)  # works-council mode: admins too
    people = sa.func.count(sa.distinct(PageView.user_id))

    def grouped(col, limit=15):
        stmt = (sa.select(col, sa.func.count().label("views"), people.label("people"))
                .where(PageView.org_id == viewer.org_id, PageView.created_at >= since, PageView.user_id.in_(members))
                .group_by(col).order_by(sa.desc("views")).limit(limit))
        if managers_view:
            stmt = stmt.having(people >= K_ANONYMITY)
        return db.session.execute(stmt).all()

    term = sa.func.lower(SearchQuery.query)
    searchers = sa.func.count(sa.distinct(SearchQuery.user_id))
    searches = (sa.select(term.label("term"), sa.func.count().label("searches"), searchers.label("people"))
                .where(SearchQuery.created_at >= since, SearchQuery.user_id.in_(members))
                .group_by(term).order_by(sa.desc("searches"), term).limit(20))
    if managers_view:
        searches = searches.having(searchers >= K_ANONYMITY)
    return Usage(grouped(PageView.feature), db.session.execute(searches).all(), grouped(PageView.device, 6),
                 grouped(PageView.browser, 8), managers_view)


# --- CSV ---------------------------------------------------------------------------------------------

REPORTS = {"people": _l("People and their progress"), "teams": _l("Teams"), "activity": _l("Activity per day (last 90 days)"),
           "courses": _l("Courses: enrolments and completions")}


def _safe(value) -> str:
    """Spreadsheet programs run cells that start with = + - @ as formulas: defuse them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# Works-council mode: reports with one row per person are not offered, the others hold groups of at least MIN_GROUP.
PER_PERSON_REPORTS = ("people",)


def reports_for(viewer) -> dict:
    """The reports ``viewer`` may download (in works-council mode: none with a row per person)."""
    if works_council.active_for(viewer):
        return {k: v for k, v in REPORTS.items() if k not in PER_PERSON_REPORTS}
    return REPORTS


class ReportRefused(Exception):
    """A report that would hold a person's own figures in works-council mode."""


def csv_rows(viewer, report: str):
    """(header, rows) of a report; rows is an iterable of lists. Raises ReportRefused in works-council mode for
    a per-person report, or when the people in view are fewer than MIN_GROUP."""
    if works_council.active_for(viewer):
        if report in PER_PERSON_REPORTS:
            raise ReportRefused(report)
        people = db.session.scalar(sa.select(sa.func.count()).select_from(scope_user_ids(viewer).subquery()))
        if works_council.too_small(people):
            raise ReportRefused(report)
    return _CSV_REPORTS[report](viewer)


def _csv_people(viewer):
    members = scope_user_ids(viewer)
    teams = dict(_team_names(members, viewer))
    rows = db.session.execute(progress_stmt(members).order_by(User.name, User.id))
    header = ["name", "email", "role", "teams", "lessons_completed", "courses_enrolled", "courses_completed",
              "minutes_this_month", "latest_score", "maturity_level", "last_active"]
    return header, ([r.name, r.email, r.role, "; ".join(teams.get(r.id, [])), r.lessons, r.enrolled, r.courses_done,
                     int(r.month_seconds) // 60, "" if r.latest_score is None else r.latest_score,
                     "" if r.maturity is None else r.maturity,
                     r.last_seen_at.strftime("%Y-%m-%d") if r.last_seen_at else ""] for r in rows)


def _csv_teams(viewer):
    all_rows, page = [], 1
    while True:
        rows, total = teams_overview(viewer, page)
        all_rows += rows
        if page * TEAMS_PER_PAGE >= total:
            break
        page += 1
    header = ["team", "members", "managers", "active_this_month", "active_percent", "lessons_this_month",
              "minutes_this_month", "average_score"]
    if works_council.active_for(viewer):  # a small team's name only, with the reason in a last column
        hidden = str(_l("fewer than %(num)s people: hidden in works-council mode", num=works_council.MIN_GROUP))
        return header + ["note"], ([t.name] + [""] * 7 + [hidden] if t.hidden else
                                   [t.name, t.members, t.managers, t.active_month, t.active_percent, t.lessons,
                                    t.month_minutes, "" if t.avg_score is None else t.avg_score, ""] for t in all_rows)
    return header, ([t.name, t.members, t.managers, t.active_month, t.active_percent, t.lessons, t.month_minutes,
                     "" if t.avg_score is None else t.avg_score] for t in all_rows)


def _csv_activity(viewer):
    rows = db.session.execute(_activity_per_day(scope_user_ids(viewer), today() - timedelta(days=89)).order_by(ActivityDay.day))
    council = works_council.active_for(viewer)  # a day's minutes and lessons only when at least MIN_GROUP people learned

    def row(r):
        if council and works_council.too_small(r[1]):
            return [r[0].isoformat(), r[1], "", ""]
        return [r[0].isoformat(), r[1], int(r[2] or 0) // 60, int(r[3] or 0)]
    return ["day", "active_people", "minutes", "lessons_completed"], (row(r) for r in rows)


def _csv_courses(viewer):
    rows = db.session.execute(_course_enrolments(scope_user_ids(viewer)).order_by(Course.title))
    council = works_council.active_for(viewer)  # a course with fewer than MIN_GROUP enrolled is left out
    return ["course", "enrolled", "completed"], ([r[0], r[1], r[2]] for r in rows if not council or works_council.shown(r[1]))


_CSV_REPORTS = {"people": _csv_people, "teams": _csv_teams, "activity": _csv_activity, "courses": _csv_courses}


def csv_text(viewer, report: str) -> str:
    header, rows = csv_rows(viewer, report)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def _visible_memberships(stmt: sa.Select, viewer) -> sa.Select:
    """A manager sees only the teams they manage, not the other teams of their people."""
    return stmt if viewer is None or is_admin(viewer) else stmt.where(TeamMembership.team_id.in_(managed_team_ids(viewer)))


def _team_names(members: sa.Select, viewer):
    """(user id, [team names]) for the people in ``members``, among the teams ``viewer`` sees (one statement)."""
    grouped: dict[int, list[str]] = {}
    for user_id, name in db.session.execute(_visible_memberships(
            sa.select(TeamMembership.user_id, Team.name).join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(members)).order_by(Team.name), viewer)):
        grouped.setdefault(user_id, []).append(name)
    return grouped.items()


def team_names_for(user_ids: list[int], viewer=None) -> dict[int, list[tuple[int, str]]]:
    grouped: dict[int, list[tuple[int, str]]] = {}
    if not user_ids:
        return grouped
    for user_id, team_id, name in db.session.execute(_visible_memberships(
            sa.select(TeamMembership.user_id, Team.id, Team.name).join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(user_ids)).order_by(Team.name), viewer)):
        grouped.setdefault(user_id, []).append((team_id, name))
    return grouped
