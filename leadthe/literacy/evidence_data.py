"""What the evidence pack shows, as queries: the company's figures (small: a few aggregate queries whose
results are lists) and the per-person rows (streamed: ``yield_per`` batches, never all in memory).

The worker runs without a tenant, so every query names the company explicitly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models import (AiPolicyAck, AiPolicyVersion, AiTool, Certificate, Course, Quiz, QuizAttempt, Requirement,
                            RequirementRule, Team, TeamMembership, User)
from leadthe.models.assessment import MaturityResult
from leadthe.models.enums import RequirementStatus, UserStatus
from leadthe.literacy.status import MIN_GROUP, in_force, status_expr

BATCH = 2000
PEOPLE_STATUSES = (UserStatus.ACTIVE, UserStatus.DEACTIVATED)  # as the admin's lists show them


@dataclass
class Figures:
    """The requirement statuses of one group (a team, a department, a rule, a course, the company)."""
    name: str
    people: int = 0
    required: int = 0
    current: int = 0
    due_soon: int = 0
    overdue: int = 0
    not_started: int = 0

    @property
    def current_share(self) -> float:
        return round(100 * self.current / self.required, 1) if self.required else 0.0

    @property
    def current_percent(self) -> int:
        """The share of current requirements in whole percent, for reading."""
        return round(self.current_share)

    def values(self) -> list:
        return [self.name, self.people, self.required, self.current, self.due_soon, self.overdue, self.not_started,
                self.current_share]


FIGURE_COLUMNS = ("group", "people", "required", "current", "due_soon", "overdue", "not_started", "current_percent")


@dataclass
class GroupFigures:
    """One kind of group's figures; ``withheld``: groups left out for having fewer than MIN_GROUP people."""
    rows: list[Figures]
    withheld: int = 0


def _counts(now: datetime):
    status = status_expr(now)

    def count(value: RequirementStatus):
        return sa.func.sum(sa.case((status == value.value, 1), else_=0))

    return (sa.func.count(sa.distinct(Requirement.user_id)), sa.func.count(Requirement.id), count(RequirementStatus.CURRENT),
            count(RequirementStatus.DUE_SOON), count(RequirementStatus.OVERDUE), count(RequirementStatus.NOT_STARTED))


def _in_scope(org_id: int):
    return sa.and_(Requirement.org_id == org_id, in_force(), User.status.in_(PEOPLE_STATUSES))


def _grouped(stmt, min_group: int) -> GroupFigures:
    rows = [Figures(str(name or ""), *(int(v or 0) for v in values)) for name, *values in db.session.execute(stmt)]
    shown = [row for row in rows if row.people >= min_group]
    return GroupFigures(shown, len(rows) - len(shown))


def company_figures(org_id: int, now: datetime) -> Figures:
    row = db.session.execute(sa.select(*_counts(now)).select_from(Requirement)
                             .join(User, User.id == Requirement.user_id).where(_in_scope(org_id))).one()
    return Figures("", *(int(v or 0) for v in row))


def team_figures(org_id: int, now: datetime, min_group: int = 1) -> GroupFigures:
    stmt = (sa.select(Team.name, *_counts(now)).select_from(Requirement)
            .join(User, User.id == Requirement.user_id)
            .join(TeamMembership, TeamMembership.user_id == Requirement.user_id).join(Team, Team.id == TeamMembership.team_id)
            .where(_in_scope(org_id)).group_by(Team.id, Team.name).order_by(Team.name, Team.id))
    return _grouped(stmt, min_group)


def department_figures(org_id: int, now: datetime, min_group: int = 1) -> GroupFigures:
    stmt = (sa.select(User.department, *_counts(now)).select_from(Requirement).join(User, User.id == Requirement.user_id)
            .where(_in_scope(org_id)).group_by(User.department).order_by(User.department))
    return _grouped(stmt, min_group)


def rule_figures(org_id: int, now: datetime, min_group: int = 1) -> GroupFigures:
    name = sa.func.coalesce(sa.func.nullif(RequirementRule.name, ""), Course.title)
    stmt = (sa.select(name, *_counts(now)).select_from(Requirement).join(User, User.id == Requirement.user_id)
            .join(RequirementRule, RequirementRule.id == Requirement.rule_id).join(Course, Course.id == RequirementRule.course_id)
            .where(_in_scope(org_id)).group_by(RequirementRule.id, name).order_by(RequirementRule.id))
    return _grouped(stmt, min_group)


def course_figures(org_id: int, now: datetime, min_group: int = 1) -> GroupFigures:
    stmt = (sa.select(Course.title, *_counts(now)).select_from(Requirement).join(User, User.id == Requirement.user_id)
            .join(Course, Course.id == Requirement.course_id)
            .where(_in_scope(org_id)).group_by(Course.id, Course.title).order_by(Course.title, Course.id))
    return _grouped(stmt, min_group)


def _best_attempts(org_id: int):
    """Per person and quiz: the best score, whether any attempt passed, how many attempts, the last one."""
    return (sa.select(QuizAttempt.user_id, QuizAttempt.quiz_id, sa.func.max(QuizAttempt.score).label("best"),
                      sa.func.max(sa.case((QuizAttempt.passed.is_(True), 1), else_=0)).label("passed"),
                      sa.func.count(QuizAttempt.id).label("attempts"), sa.func.max(QuizAttempt.created_at).label("last"))
            .join(User, User.id == QuizAttempt.user_id)
            .where(QuizAttempt.org_id == org_id, User.org_id == org_id, User.status.in_(PEOPLE_STATUSES))
            .group_by(QuizAttempt.user_id, QuizAttempt.quiz_id))


def quiz_figures(org_id: int, min_group: int = 1) -> tuple[list[tuple], int]:
    """Per quiz: people who took it, people who passed, the average best score; and how many quizzes were
    left out for having fewer than ``min_group`` people."""
    best = _best_attempts(org_id).subquery()
    rows = db.session.execute(
        sa.select(Quiz.title, sa.func.count(), sa.func.sum(best.c.passed), sa.func.avg(best.c.best))
        .join(best, best.c.quiz_id == Quiz.id).group_by(Quiz.id, Quiz.title).order_by(Quiz.title, Quiz.id)).all()
    shown = [(title, int(people), int(passed or 0), round(float(avg or 0), 1)) for title, people, passed, avg in rows
             if people >= min_group]
    return shown, len(rows) - len(shown)


def maturity_levels(org_id: int, min_group: int = 1) -> list[tuple[int, int]]:
    """People per maturity level (their latest self-assessment); in works-council mode levels held by fewer
    than MIN_GROUP people are left out."""
    rows = db.session.execute(
        sa.select(MaturityResult.level, sa.func.count()).join(User, User.id == MaturityResult.user_id)
        .where(MaturityResult.org_id == org_id, MaturityResult.is_latest.is_(True), User.status.in_(PEOPLE_STATUSES))
        .group_by(MaturityResult.level).order_by(MaturityResult.level)).all()
    return [(int(level), int(n)) for level, n in rows if n >= min_group]


# --- the company's programme (small lists) -------------------------------------------------------------

def ai_tools(org_id: int, with_owner: bool) -> list[dict]:
    teams = dict(db.session.execute(sa.select(Team.id, Team.name).where(Team.org_id == org_id)).all())
    rows = db.session.execute(sa.select(AiTool, User.name).outerjoin(User, User.id == AiTool.owner_id)
                              .where(AiTool.org_id == org_id).order_by(AiTool.name)).all()
    return [{"name": tool.name, "vendor": tool.vendor, "purpose": tool.purpose, "status": tool.status,
             "departments": "; ".join(tool.departments or []),
             "teams": "; ".join(teams.get(t, "") for t in tool.team_ids or [] if t in teams),
             "risk_note": tool.risk_note, "personal_data_allowed": tool.personal_data_allowed,
             "confidential_data_allowed": tool.confidential_data_allowed,
             "owner": (owner if with_owner and owner else "") or tool.owner_note, "added_on": tool.added_on}
            for tool, owner in rows]


def policy_versions(org_id: int) -> list[dict]:
    rows = db.session.execute(
        sa.select(AiPolicyVersion.version, AiPolicyVersion.title, AiPolicyVersion.summary, AiPolicyVersion.change,
                  AiPolicyVersion.published_at, sa.func.count(AiPolicyAck.id), sa.func.count(AiPolicyAck.acknowledged_at))
        .outerjoin(AiPolicyAck, AiPolicyAck.version_id == AiPolicyVersion.id)
        .where(AiPolicyVersion.org_id == org_id, AiPolicyVersion.published_at.is_not(None))
        .group_by(AiPolicyVersion.id).order_by(AiPolicyVersion.version)).all()
    return [{"version": v, "title": title, "change": change, "summary": summary, "published_at": published,
             "asked": asked, "acknowledged": acked} for v, title, summary, change, published, asked, acked in rows]


def requirement_rules(org_id: int) -> list[dict]:
    rows = db.session.execute(
        sa.select(RequirementRule, Course.title, Team.name).join(Course, Course.id == RequirementRule.course_id)
        .outerjoin(Team, Team.id == RequirementRule.team_id)
        .where(RequirementRule.org_id == org_id).order_by(RequirementRule.id)).all()
    return [{"name": rule.name, "course": course, "field": rule.field, "operator": rule.operator,
             "value": team if rule.field == "team" else rule.value, "due_days": rule.due_days,
             "refresh_months": rule.refresh_months, "active": rule.active} for rule, course, team in rows]


def curriculum(org_id: int) -> list[dict]:
    """The courses the company's people can take (the platform's and its own, published), each with its
    learning objectives, its time and its certificate's validity, and how many rules require it."""
    required = (sa.select(sa.func.count(RequirementRule.id)).where(RequirementRule.course_id == Course.id,
                                                                   RequirementRule.org_id == org_id,
                                                                   RequirementRule.active.is_(True)).scalar_subquery())
    rows = db.session.execute(
        sa.select(Course.title, Course.summary, Course.objectives, Course.minutes, Course.certificate_months, required)
        .where(sa.or_(Course.org_id.is_(None), Course.org_id == org_id), Course.published.is_(True))
        .order_by(required.desc(), Course.position, Course.title)).all()
    return [{"title": title, "summary": summary, "objectives": list(objectives or []), "minutes": minutes,
             "certificate_months": months, "required_by_rules": rules}
            for title, summary, objectives, minutes, months, rules in rows]


# --- per person (streamed) -----------------------------------------------------------------------------

def _stream(stmt):
    return db.session.execute(stmt.execution_options(yield_per=BATCH))


def team_names_by_person(org_id: int) -> dict[int, str]:
    """Each person's teams, "; "-joined (one small string per person in a team)."""
    names: dict[int, str] = {}
    rows = _stream(sa.select(TeamMembership.user_id, Team.name).join(Team, Team.id == TeamMembership.team_id)
                   .where(TeamMembership.org_id == org_id).order_by(TeamMembership.user_id, Team.name))
    for user_id, name in rows:
        names[user_id] = f"{names[user_id]}; {name}" if user_id in names else name
    return names


def people(org_id: int):
    """(id, name, e-mail, department, job title, role, status, maturity level) per person, by id."""
    return _stream(
        sa.select(User.id, User.name, User.email, User.department, User.job_title, User.role, User.status, MaturityResult.level)
        .outerjoin(MaturityResult, sa.and_(MaturityResult.user_id == User.id, MaturityResult.is_latest.is_(True)))
        .where(User.org_id == org_id, User.status.in_(PEOPLE_STATUSES)).order_by(User.id))


def requirements(org_id: int, now: datetime):
    """Per person and required course: name, e-mail, course, status, due, completed, valid until, the rule,
    the certificate's code (or None), ordered by person."""
    rule_name = sa.func.coalesce(sa.func.nullif(RequirementRule.name, ""), "")
    return _stream(
        sa.select(User.name, User.email, Course.title, status_expr(now), Requirement.due_on, Requirement.completed_at,
                  Requirement.valid_until, rule_name, Certificate.code)
        .select_from(Requirement).join(User, User.id == Requirement.user_id).join(Course, Course.id == Requirement.course_id)
        .outerjoin(RequirementRule, RequirementRule.id == Requirement.rule_id)
        .outerjoin(Certificate, sa.and_(Certificate.user_id == Requirement.user_id, Certificate.course_id == Requirement.course_id,
                                        Certificate.revoked_at.is_(None)))
        .where(_in_scope(org_id)).order_by(Requirement.user_id, Requirement.course_id))


def quiz_results(org_id: int):
    """Per person and quiz: name, e-mail, quiz, best score, passed, attempts, last attempt; by person."""
    best = _best_attempts(org_id).subquery()
    return _stream(
        sa.select(User.name, User.email, Quiz.title, best.c.best, best.c.passed, best.c.attempts, best.c.last)
        .join(best, best.c.user_id == User.id).join(Quiz, Quiz.id == best.c.quiz_id).order_by(User.id, Quiz.id))


def min_group(team_figures_only: bool) -> int:
    return MIN_GROUP if team_figures_only else 1
