"""Where people see their required training: a person's own requirements (with the rule in words), and the
statuses of a manager's teams, per person and per team.

Each function is a fixed number of statements whatever the number of requirements or people:
``requirements_of`` one, ``required_course_ids`` one, ``policy_acknowledgements_of`` one,
``team_requirement_statuses`` two (the counts, then the overdue courses' titles), ``team_requirement_figures`` one.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from leadthe.courses.translation import title_of
from leadthe.extensions import db
from leadthe.labels import label
from leadthe.literacy.status import MIN_GROUP, in_force, status_expr
from leadthe.models import (AiPolicyAck, AiPolicyVersion, Course, Enrollment, Requirement, RequirementRule, Team,
                            TeamMembership, User, utcnow)
from leadthe.models.enums import RequirementStatus, RuleField, RuleOperator, UserStatus

# most urgent first: the order of a person's list, and of the counts in a summary
URGENCY = (RequirementStatus.OVERDUE, RequirementStatus.DUE_SOON, RequirementStatus.NOT_STARTED, RequirementStatus.CURRENT)
# the design system's badge tone per status (the badge always carries its words too)
STATUS_TONES = {RequirementStatus.OVERDUE: "err", RequirementStatus.DUE_SOON: "warn",
                RequirementStatus.NOT_STARTED: "info", RequirementStatus.CURRENT: "ok"}


def status_label(status: str) -> str:
    """A requirement status (a RequirementStatus value) in the reader's words (``|label("requirement")``)."""
    return label(status, "requirement")


def status_parts(counts: dict) -> list[str]:
    """Counts per status in short: ["2 of 3 current", "1 overdue"] (statuses with none are left out)."""
    total = sum(counts.values())
    parts = [_("%(current)s of %(total)s current", current=counts.get(RequirementStatus.CURRENT, 0), total=total)]
    words = {RequirementStatus.OVERDUE: _("%(num)s overdue"), RequirementStatus.DUE_SOON: _("%(num)s due soon"),
             RequirementStatus.NOT_STARTED: _("%(num)s not started")}
    return parts + [words[s] % {"num": counts[s]} for s in URGENCY[:3] if counts.get(s)]


def status_summary(counts: dict) -> str:
    """Counts per status in one line: "2 of 3 current · 1 overdue"."""
    return " · ".join(status_parts(counts))


def rule_reason(rule, team_name: str | None = None) -> str:
    """Why a rule requires a course, in words: "Required for everyone in department “Sales”". ``rule`` is a
    RequirementRule (or any object with ``field``, ``operator``, ``value``), or None when the rule that
    required it was deleted; pass the team's name for a team rule (the caller joins it, no query here)."""
    if rule is None or rule.field is None:
        return _("Required by your company")
    value = (rule.value or "").strip()
    contains = rule.operator == RuleOperator.CONTAINS
    if rule.field == RuleField.TEAM:
        return _("Required for team “%(team)s”", team=team_name) if team_name else _("Required for one of your teams")
    if rule.field == RuleField.DEPARTMENT:
        if contains:
            return _("Required for departments containing “%(value)s”", value=value)
        return _("Required for everyone in department “%(department)s”", department=value)
    if rule.field == RuleField.JOB_TITLE:
        if contains:
            return _("Required for job titles containing “%(value)s”", value=value)
        return _("Required for the job title “%(title)s”", title=value)
    if rule.field == RuleField.ROLE:
        return _("Required for the role %(role)s", role=label(value.lower(), "role"))
    return _("Required for everyone in the company")


@dataclass(frozen=True)
class RequiredCourse:
    """One course a person must complete, as they see it."""

    course_id: int
    slug: str
    title: str
    status: RequirementStatus
    due_on: date | None
    completed_at: datetime | None
    valid_until: datetime | None
    reason: str
    enrolled: bool

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def tone(self) -> str:
        return STATUS_TONES[self.status]

    @property
    def action(self) -> str:
        """What to do next: "review" (current), "renew" (completed, expired), "continue" (started), "start"."""
        if self.status == RequirementStatus.CURRENT:
            return "review"
        if self.completed_at is not None:
            return "renew"
        return "continue" if self.enrolled else "start"


class StatusCounts:
    """Counts per status (``counts``: {status: n}) in words, for a person's list, a person or a team."""

    counts: dict

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def summary(self) -> str:
        return status_summary(self.counts)

    @property
    def parts(self) -> list[str]:
        return status_parts(self.counts)


class RequiredCourses(StatusCounts, list):
    """A person's required courses (a list), with their counts in short."""

    @property
    def counts(self) -> dict:
        counts: dict = {}
        for r in self:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    @property
    def parts(self) -> list[str]:
        return status_parts(self.counts)


def _rule_row(field_, operator, value):
    """The rule columns of a joined row, as an object ``rule_reason`` reads (None when the rule is gone)."""
    if field_ is None:
        return None
    return RequirementRule(field=field_, operator=operator, value=value)


def requirements_of(user: User, now: datetime | None = None) -> RequiredCourses:
    """The person's requirements in force, most urgent first (overdue, due soon, not started, current), each
    with its course (title in the reader's language), status, dates, the rule in words and whether they
    have started the course. One statement."""
    now = now or utcnow()
    if user.org_id is None:
        return RequiredCourses()
    status = status_expr(now).label("status")
    rows = db.session.execute(
        sa.select(Course.id, Course.slug, Course.title, status, Requirement.due_on, Requirement.completed_at,
                  Requirement.valid_until, RequirementRule.field, RequirementRule.operator, RequirementRule.value,
                  Team.name, Enrollment.id)
        .join(Course, Course.id == Requirement.course_id)
        .outerjoin(RequirementRule, RequirementRule.id == Requirement.rule_id)
        .outerjoin(Team, Team.id == RequirementRule.team_id)
        .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Requirement.course_id, Enrollment.user_id == user.id))
        .where(Requirement.user_id == user.id, Requirement.org_id == user.org_id, in_force())
    ).all()
    items = [RequiredCourse(cid, slug, title_of("course", cid, title), RequirementStatus(st), due_on, completed_at,
                            valid_until, rule_reason(_rule_row(f, op, v), team), enrolled is not None)
             for cid, slug, title, st, due_on, completed_at, valid_until, f, op, v, team, enrolled in rows]
    far = date.max
    return RequiredCourses(sorted(items, key=lambda r: (URGENCY.index(r.status), r.due_on or far, r.title.lower())))


def required_course_ids(user: User) -> set[int]:
    """The ids of the courses the person is required to complete (in force): the catalogue's "Required" badge."""
    if user.org_id is None:
        return set()
    return set(db.session.scalars(sa.select(Requirement.course_id).where(
        Requirement.user_id == user.id, Requirement.org_id == user.org_id, in_force())))


def policy_acknowledgements_of(user: User) -> list:
    """The versions of the company's AI-use policy the person was asked to acknowledge, newest first: rows
    with ``version``, ``title``, ``published_at``, ``asked_at``, ``acknowledged_at``. One statement."""
    if user.org_id is None:
        return []
    return db.session.execute(
        sa.select(AiPolicyVersion.version, AiPolicyVersion.title, AiPolicyVersion.published_at, AiPolicyAck.asked_at,
                  AiPolicyAck.acknowledged_at)
        .join(AiPolicyVersion, AiPolicyVersion.id == AiPolicyAck.version_id)
        .where(AiPolicyAck.user_id == user.id, AiPolicyAck.org_id == user.org_id)
        .order_by(AiPolicyVersion.version.desc())).all()


# --- teams ------------------------------------------------------------------------------------------

@dataclass
class PersonStatus(StatusCounts):
    """A person's required training in short: counts per status, and the titles of their overdue courses."""

    counts: dict = field(default_factory=dict)
    overdue_courses: list[str] = field(default_factory=list)


def _team_members(team_ids) -> sa.Select:
    """The active people of those teams."""
    return (sa.select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id)
            .where(TeamMembership.team_id.in_(list(team_ids)), User.status == UserStatus.ACTIVE))


def team_requirement_statuses(team_ids, now: datetime | None = None) -> dict[int, PersonStatus]:
    """By user id, for every active person of those teams who has a requirement in force: their counts per
    status and the titles of their overdue courses. Two statements (counts; overdue titles)."""
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    status = status_expr(now or utcnow())
    members = _team_members(team_ids)
    # grouped on a subquery's column: PostgreSQL does not match a GROUP BY expression with bound parameters
    rows = (sa.select(Requirement.user_id.label("user_id"), status.label("status"))
            .where(Requirement.user_id.in_(members), in_force()).subquery())
    counts = db.session.execute(
        sa.select(rows.c.user_id, rows.c.status, sa.func.count()).group_by(rows.c.user_id, rows.c.status)).all()
    people: dict[int, PersonStatus] = defaultdict(PersonStatus)
    for user_id, st, n in counts:
        people[user_id].counts[st] = int(n)
    if any(p.count(RequirementStatus.OVERDUE) for p in people.values()):
        overdue = db.session.execute(
            sa.select(Requirement.user_id, Course.id, Course.title).join(Course, Course.id == Requirement.course_id)
            .where(Requirement.user_id.in_(members), in_force(), status == RequirementStatus.OVERDUE.value)
            .order_by(Requirement.due_on, Course.title)).all()
        for user_id, cid, title in overdue:
            people[user_id].overdue_courses.append(title_of("course", cid, title))
    return dict(people)


@dataclass
class TeamFigures(StatusCounts):
    """A team's required training: how many people have requirements, how many are fully current, how many
    have something overdue, and the requirements per status."""

    people: int = 0
    people_current: int = 0
    people_overdue: int = 0
    counts: dict = field(default_factory=dict)

    @property
    def shown_in_groups(self) -> bool:
        """Large enough to show in works-council mode ("team figures only": groups of at least MIN_GROUP)."""
        return self.people >= MIN_GROUP


def team_requirement_figures(team_ids, now: datetime | None = None) -> dict[int, TeamFigures]:
    """By team id: the team's required-training figures (teams without requirements are left out). One statement."""
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    st = status_expr(now or utcnow())

    def flag(value):
        return sa.case((st == value, 1), else_=0)

    # per (team, person): their counts; then per team
    per_person = (
        sa.select(TeamMembership.team_id.label("team_id"), Requirement.user_id.label("user_id"),
                  *(sa.func.sum(flag(s.value)).label(s.value) for s in URGENCY))
        .join(Requirement, Requirement.user_id == TeamMembership.user_id)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id.in_(team_ids), User.status == UserStatus.ACTIVE, in_force())
        .group_by(TeamMembership.team_id, Requirement.user_id).subquery())
    c = per_person.c
    not_current = c.overdue + c.due_soon + c.not_started
    rows = db.session.execute(
        sa.select(c.team_id, sa.func.count(), sa.func.sum(sa.case((not_current == 0, 1), else_=0)),
                  sa.func.sum(sa.case((c.overdue > 0, 1), else_=0)), *(sa.func.sum(c[s.value]) for s in URGENCY))
        .group_by(c.team_id)).all()
    return {team_id: TeamFigures(int(people), int(current or 0), int(overdue or 0),
                                 {s.value: int(n or 0) for s, n in zip(URGENCY, by_status)})
            for team_id, people, current, overdue, *by_status in rows}
