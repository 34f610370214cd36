"""The programme overview (``/admin/literacy``): where the company stands with its required training.

Every figure is an aggregate over the ``requirement`` table (its status from ``status_expr``; rows whose
person left the rule's scope count nowhere), limited to the people the viewer may see: the whole company
for an org admin, the teams they manage for a manager. Each part is one statement, so the page and the
CSV run the same number of statements for ten people or ten thousand.

Works-council mode (``Organization.literacy_team_figures_only``): only groups of at least ``MIN_GROUP``
people are shown, no list of people and no per-person CSV; each person's own evidence stays in their
own data export.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from babel import dates as babel_dates
from flask_babel import lazy_gettext as _l

from leadthe.admin.access import is_admin, managed_team_ids
from leadthe.admin.reports import _safe, team_names_for
from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.i18n import format_locale
from leadthe.labels import REQUIREMENT_STATUS
from leadthe.literacy.status import MIN_GROUP, in_force, status_expr
from leadthe.trust import works_council as works_council_mode
from leadthe.models import AiPolicyAck, AiPolicyVersion, Course, Requirement, RequirementRule, Team, TeamMembership, User, utcnow
from leadthe.models.enums import PolicyChange, RequirementStatus, UserStatus

OVERDUE_PER_PAGE = 25
TEAM_ROWS = 20  # the page shows the teams with the lowest share current first; all of them on request
TREND_MONTHS = 12
STATUS_LABELS = REQUIREMENT_STATUS  # the filter's choices, in the words used everywhere
# a person's status is their worst requirement's: one overdue course makes the person overdue
_RANK = {RequirementStatus.CURRENT: 0, RequirementStatus.NOT_STARTED: 1, RequirementStatus.DUE_SOON: 2,
         RequirementStatus.OVERDUE: 3}


@dataclass
class Filters:
    team_id: int | None = None
    department: str = ""
    course_id: int | None = None
    rule_id: int | None = None
    status: str = ""
    page: int = 1
    all_teams: bool = False

    def args(self) -> dict:
        """The filters as query-string values (for links: the CSV, the pages of the overdue list)."""
        found = {"team": self.team_id, "department": self.department, "course": self.course_id,
                 "rule": self.rule_id, "status": self.status}
        return {k: v for k, v in found.items() if v not in (None, "")}


@dataclass
class Choices:
    """What the filters offer: the teams, departments, courses and rules in the viewer's view."""
    teams: list = field(default_factory=list)  # (id, name)
    departments: list = field(default_factory=list)
    courses: list = field(default_factory=list)  # (id, title)
    rules: list = field(default_factory=list)  # (id, label)


@dataclass
class Headline:
    people: int = 0
    current: int = 0
    due_soon: int = 0
    overdue: int = 0
    not_started: int = 0

    @property
    def current_percent(self) -> int:
        return round(100 * self.current / self.people) if self.people else 0


@dataclass
class GroupRow:
    key: object
    label: str
    people: int
    required: int
    current: int
    due_soon: int  # required courses due soon
    overdue: int  # required courses overdue

    @property
    def current_percent(self) -> int:
        return round(100 * self.current / self.required) if self.required else 0


@dataclass
class Overview:
    filters: Filters
    team_figures_only: bool
    headline: Headline
    by_team: list
    by_department: list
    by_rule: list
    hidden_groups: int  # works-council mode: groups left out because they have fewer than MIN_GROUP people
    policy: list  # (version, title, published_at, asked, acknowledged, percent)
    trend: list  # (month label, percent current)
    overdue: list = field(default_factory=list)
    overdue_total: int = 0
    teams_of: dict = field(default_factory=dict)
    teams_total: int = 0  # teams with figures; ``by_team`` holds the first TEAM_ROWS unless all were asked for

    @property
    def teams_shown(self) -> list:
        return self.by_team if self.filters.all_teams else self.by_team[:TEAM_ROWS]

    @property
    def too_small(self) -> bool:
        """Works-council mode and the people in view are fewer than MIN_GROUP: no figure is shown."""
        return self.team_figures_only and self.headline.people < MIN_GROUP


# --- what the viewer sees --------------------------------------------------------------------------

def visible_teams(viewer) -> sa.Select:
    stmt = sa.select(Team.id, Team.name).where(Team.org_id == viewer.org_id)
    if not is_admin(viewer):
        stmt = stmt.where(Team.id.in_(managed_team_ids(viewer)))
    return stmt


def choices(viewer) -> Choices:
    """The filters' options (four statements)."""
    org = viewer.org_id
    teams = [tuple(r) for r in db.session.execute(visible_teams(viewer).order_by(Team.name))]
    departments = list(db.session.scalars(
        sa.select(User.department).where(*_person_conditions(viewer, Filters()), User.department != "").distinct()
        .order_by(User.department)))
    courses = [(cid, title_of("course", cid, title)) for cid, title in db.session.execute(
        sa.select(Course.id, Course.title).where(Course.id.in_(
            sa.select(Requirement.course_id).where(Requirement.org_id == org, in_force()))).order_by(Course.title))]
    rules = [(rid, name or title_of("course", cid, title)) for rid, name, cid, title in db.session.execute(
        sa.select(RequirementRule.id, RequirementRule.name, Course.id, Course.title)
        .join(Course, Course.id == RequirementRule.course_id)
        .where(RequirementRule.org_id == org).order_by(RequirementRule.name, Course.title, RequirementRule.id))]
    return Choices(teams, departments, courses, rules)


def _person_conditions(viewer, f: Filters) -> list:
    """Conditions on ``User`` for the people in view, narrowed by the team and department filters. Written
    as conditions on the joined person (not ``IN (SELECT ids)``): the planner then walks the requirements
    of the company instead of every person first (ten times faster at 10,000 people)."""
    tm = TeamMembership
    where = [User.org_id == viewer.org_id, User.status == UserStatus.ACTIVE]
    if f.team_id is not None:
        where.append(User.id.in_(sa.select(tm.user_id).where(tm.team_id == f.team_id)))
    if not is_admin(viewer):
        where.append(User.id.in_(sa.select(tm.user_id).where(tm.team_id.in_(managed_team_ids(viewer)))))
    if f.department:
        where.append(User.department == f.department)
    return where


def _requirements(viewer, f: Filters, now: datetime):
    """(the WHERE clauses of the requirements in view, joined to their person; the status expression)."""
    status = status_expr(now)
    where = [Requirement.org_id == viewer.org_id, in_force(), User.id == Requirement.user_id, *_person_conditions(viewer, f)]
    if f.course_id is not None:
        where.append(Requirement.course_id == f.course_id)
    if f.rule_id is not None:
        where.append(Requirement.rule_id == f.rule_id)
    if f.status in _RANK:
        where.append(status == f.status)
    return where, status


def _group_columns(status):
    """People, required courses, and how many of those are current, due soon and overdue."""
    def count(value):
        return sa.func.sum(sa.case((status == value.value, 1), else_=0))

    return (sa.func.count(sa.distinct(Requirement.user_id)).label("people"), sa.func.count().label("required"),
            count(RequirementStatus.CURRENT).label("current"), count(RequirementStatus.DUE_SOON).label("due_soon"),
            count(RequirementStatus.OVERDUE).label("overdue"))


def _row(key, label, r) -> GroupRow:
    return GroupRow(key, label, int(r.people), int(r.required), int(r.current or 0), int(r.due_soon or 0), int(r.overdue or 0))


def headline(where, status) -> Headline:
    rank = sa.case(*((status == s.value, n) for s, n in _RANK.items()), else_=0)
    per_person = sa.select(Requirement.user_id, sa.func.max(rank).label("rank")).where(*where).group_by(Requirement.user_id).subquery()
    counts = dict(db.session.execute(sa.select(per_person.c.rank, sa.func.count()).group_by(per_person.c.rank)).all())
    h = Headline(people=sum(counts.values()))
    for s, n in _RANK.items():
        setattr(h, s.value, int(counts.get(n, 0)))
    return h


def by_team(viewer, f: Filters, where, status) -> list[GroupRow]:
    tm = TeamMembership
    stmt = (sa.select(Team.id, Team.name, *_group_columns(status)).select_from(Requirement)
            .join(tm, tm.user_id == Requirement.user_id).join(Team, Team.id == tm.team_id)
            .where(*where, Team.org_id == viewer.org_id).group_by(Team.id, Team.name).order_by(Team.name))
    if not is_admin(viewer):
        stmt = stmt.where(tm.team_id.in_(managed_team_ids(viewer)))
    if f.team_id is not None:
        stmt = stmt.where(tm.team_id == f.team_id)
    return [_row(r.id, r.name, r) for r in db.session.execute(stmt)]


def by_department(where, status) -> list[GroupRow]:
    stmt = (sa.select(User.department, *_group_columns(status)).select_from(Requirement)
            .join(User, User.id == Requirement.user_id).where(*where).group_by(User.department).order_by(User.department))
    return [_row(r.department, r.department or str(_l("No department")), r) for r in db.session.execute(stmt)]


def by_rule(where, status) -> list[GroupRow]:
    R = RequirementRule
    stmt = (sa.select(Requirement.rule_id, R.name, Course.id.label("course_id"), Course.title, *_group_columns(status))
            .select_from(Requirement).join(Course, Course.id == Requirement.course_id)
            .outerjoin(R, R.id == Requirement.rule_id).where(*where)
            .group_by(Requirement.rule_id, R.name, Course.id, Course.title).order_by(R.name, Course.title))
    rows = []
    for r in db.session.execute(stmt):
        course = title_of("course", r.course_id, r.title)
        if r.rule_id is None:
            label = str(_l("%(course)s (rule removed)", course=course))
        else:
            label = f"{r.name} ({course})" if r.name else course
        rows.append(_row(r.rule_id, label, r))
    return rows


def policy_acknowledgements(viewer, f: Filters) -> list[tuple]:
    """Per published material version of the AI-use policy: asked, acknowledged, percent (one statement)."""
    V, A = AiPolicyVersion, AiPolicyAck
    acks = (sa.select(A.version_id, sa.func.count().label("asked"), sa.func.count(A.acknowledged_at).label("done"))
            .join(User, User.id == A.user_id).where(A.org_id == viewer.org_id, *_person_conditions(viewer, f))
            .group_by(A.version_id).subquery())
    stmt = (sa.select(V.version, V.title, V.published_at, sa.func.coalesce(acks.c.asked, 0), sa.func.coalesce(acks.c.done, 0))
            .outerjoin(acks, acks.c.version_id == V.id)
            .where(V.org_id == viewer.org_id, V.published_at.is_not(None), V.change == PolicyChange.MATERIAL)
            .order_by(V.version.desc()))
    return [(v, title, at, int(asked), int(done), round(100 * done / asked) if asked else 0)
            for v, title, at, asked, done in db.session.execute(stmt)]


def month_ends(now: datetime, months: int = TREND_MONTHS) -> list[tuple[date, datetime]]:
    """(first day of the month, the moment its figure is taken) for the last ``months`` months, oldest first:
    the end of each past month, and ``now`` for the current one."""
    firsts = []
    first = now.date().replace(day=1)
    for _ in range(months):
        firsts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    firsts.reverse()
    ends = [datetime.combine(nxt, time.min, tzinfo=timezone.utc) for nxt in firsts[1:]] + [now]
    return list(zip(firsts, ends))


def trend(where, now: datetime) -> list[tuple[str, float]]:
    """The share of requirements current at the end of each of the last 12 months (one statement): the
    requirements assigned by then, completed by then and not expired then. A renewal replaces the earlier
    completion, so a month before a renewal can read lower than it was.

    Each requirement falls into a few buckets, the first month end on or after its assignment, completion
    and expiry (12: later, or never); the statement counts the requirements per combination of buckets and
    the months are added up here, from a few dozen rows."""
    months = month_ends(now)
    ends = [end for _first, end in months]

    def bucket(column, name):
        return sa.case(*((column <= end, i) for i, end in enumerate(ends)), else_=len(ends)).label(name)

    R = Requirement
    buckets = [bucket(R.assigned_at, "a"), bucket(R.completed_at, "c"), bucket(R.valid_until, "v")]
    rows = db.session.execute(sa.select(*buckets, sa.func.count()).where(*where).group_by(*buckets)).all()
    out = []
    for i, (first, _end) in enumerate(months):
        total = sum(n for a, _c, _v, n in rows if a <= i)
        current = sum(n for a, c, v, n in rows if a <= i and c <= i and v > i)
        label = babel_dates.format_skeleton("MMMyy", first, locale=format_locale())
        out.append((label, round(100 * current / total) if total else 0))
    return out


def overdue_page(where, status, page: int) -> tuple[list, int]:
    """The overdue requirements, most overdue first, one page at a time (two statements)."""
    stmt = (sa.select(User.id.label("user_id"), User.name, Course.id.label("course_id"), Course.title, Requirement.due_on)
            .select_from(Requirement).join(User, User.id == Requirement.user_id).join(Course, Course.id == Requirement.course_id)
            .where(*where, status == RequirementStatus.OVERDUE.value))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Requirement.due_on, User.name, Requirement.id)
                              .offset((page - 1) * OVERDUE_PER_PAGE).limit(OVERDUE_PER_PAGE)).all()
    return rows, total


def _keep_large(groups: list[GroupRow]) -> tuple[list[GroupRow], int]:
    kept = [g for g in groups if g.people >= MIN_GROUP]
    return kept, len(groups) - len(kept)


def overview(viewer, f: Filters, now: datetime | None = None) -> Overview:
    """Everything the page shows (at most 9 statements, whatever the company's size)."""
    now = now or utcnow()
    works_council = works_council_mode.team_figures_only(viewer.organization)  # the setting, or works-council mode
    where, status = _requirements(viewer, f, now)
    teams, departments, rules = by_team(viewer, f, where, status), by_department(where, status), by_rule(where, status)
    hidden = 0
    if works_council:
        (teams, a), (departments, b), (rules, c) = _keep_large(teams), _keep_large(departments), _keep_large(rules)
        hidden = a + b + c
    policy = policy_acknowledgements(viewer, f)
    if works_council:
        policy = [p for p in policy if p[3] >= MIN_GROUP]
    teams.sort(key=lambda g: (g.current_percent, g.label))  # the teams that need attention first
    o = Overview(f, works_council, headline(where, status), teams, departments, rules, hidden, policy, trend(where, now),
                 teams_total=len(teams))
    if o.too_small:
        o.by_team, o.by_department, o.by_rule, o.policy, o.trend = [], [], [], [], []
    if not works_council:
        o.overdue, o.overdue_total = overdue_page(where, status, f.page)
        o.teams_of = team_names_for([r.user_id for r in o.overdue], viewer)
        o.overdue = [(r, title_of("course", r.course_id, r.title), (now.date() - r.due_on).days) for r in o.overdue]
    return o


# --- CSV -------------------------------------------------------------------------------------------

PERSON_HEADER = ["person", "email", "teams", "department", "job_title", "course", "rule", "status", "due_on",
                 "completed_at", "valid_until"]
GROUP_HEADER = ["grouped_by", "group", "people", "required", "current_percent", "due_soon", "overdue"]


def _fmt(value) -> str:
    if value is None:
        return ""
    return value.isoformat()[:10] if isinstance(value, (date, datetime)) else str(value)


def _team_names(viewer, f: Filters) -> dict[int, str]:
    """Each person in view with the names of their teams (among the teams the viewer sees), in one statement."""
    tm = TeamMembership
    stmt = (sa.select(tm.user_id, Team.name).join(Team, Team.id == tm.team_id).join(User, User.id == tm.user_id)
            .where(*_person_conditions(viewer, f)).order_by(Team.name))
    if not is_admin(viewer):
        stmt = stmt.where(tm.team_id.in_(managed_team_ids(viewer)))
    names: dict[int, list[str]] = {}
    for user_id, name in db.session.execute(stmt):
        names.setdefault(user_id, []).append(name)
    return {user_id: "; ".join(found) for user_id, found in names.items()}


def person_rows(viewer, f: Filters, now: datetime):
    """One row per requirement in view (two statements: the rows and the teams of the people in view)."""
    where, status = _requirements(viewer, f, now)
    R = RequirementRule
    stmt = (sa.select(User.id, User.name, User.email, User.department, User.job_title, Course.id.label("course_id"),
                      Course.title, R.name.label("rule"), status.label("status"), Requirement.due_on, Requirement.completed_at,
                      Requirement.valid_until)
            .select_from(Requirement).join(User, User.id == Requirement.user_id).join(Course, Course.id == Requirement.course_id)
            .outerjoin(R, R.id == Requirement.rule_id).where(*where).order_by(User.name, User.id, Course.title))
    teams = _team_names(viewer, f)
    titles: dict[int, str] = {}
    for r in db.session.execute(stmt):
        if r.course_id not in titles:
            titles[r.course_id] = title_of("course", r.course_id, r.title)
        yield [r.name, r.email, teams.get(r.id, ""), r.department, r.job_title, titles[r.course_id], r.rule or "",
               r.status, _fmt(r.due_on), _fmt(r.completed_at), _fmt(r.valid_until)]


def group_rows(o: Overview):
    for kind, groups in (("team", sorted(o.by_team, key=lambda g: g.label)), ("department", o.by_department), ("rule", o.by_rule)):
        for g in groups:
            yield [kind, g.label, g.people, g.required, g.current_percent, g.due_soon, g.overdue]


def csv_text(viewer, f: Filters, now: datetime | None = None) -> str:
    """Per-person rows; in works-council mode only the group figures (groups of at least MIN_GROUP people)."""
    now = now or utcnow()
    if works_council_mode.team_figures_only(viewer.organization):
        o = overview(viewer, f, now)
        header, rows = GROUP_HEADER, group_rows(o)
    else:
        header, rows = PERSON_HEADER, person_rows(viewer, f, now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()
