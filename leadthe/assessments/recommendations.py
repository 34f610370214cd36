"""Explainable course recommendations for the dashboard.

Every recommendation carries its reason in words. Candidates, strongest first: courses assigned to the
person, courses in progress, courses for their weakest maturity dimensions, courses for their role, and
courses popular in their team. People who object to recommendations or restricted processing
(``may_personalise`` is False) get the catalogue's own order and a note; none of their data is read for
it, and their activity is left out of what their colleagues see as "popular in your team".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext as _l

from leadthe.assessments import rubric as R
from leadthe.courses.services import visible_courses
from leadthe.extensions import db
from leadthe.i18n import format_day
from leadthe.models import Assignment, Course, Enrollment, MaturityResult, PrivacySettings, TeamMembership, User, utcnow
from leadthe.models.enums import Role
from leadthe.privacy.services import may_personalise

ROLE_TRACKS = [
    (re.compile(r"\b(sales|account exec|account manager|business development|bdr|sdr)", re.I), _l("Sales")),
    (re.compile(r"\b(hr|human resources|people|recruit|talent)", re.I), _l("HR")),
    (re.compile(r"\b(engineer|developer|software|devops|programmer|it\b)", re.I), _l("Engineering")),
    (re.compile(r"\b(financ|accountant|accounting|controller|controlling)", re.I), _l("Finance")),
    (re.compile(r"\b(operations|ops\b|logistics|supply)", re.I), _l("Operations")),
]
ROLE_COURSE = "ai-in-your-role"
LEADER_COURSE = "leading-ai-adoption"
START_COURSE = "ai-foundations"
POPULAR_WINDOW = timedelta(days=90)


@dataclass
class Recommendation:
    course: Course
    reason: str
    kind: str
    score: int = 0


@dataclass
class Recommendations:
    items: list[Recommendation] = field(default_factory=list)
    personalised: bool = True
    all_done: bool = False


def role_track(user: User):
    text = f"{user.job_title or ''} {user.department or ''}"
    for pattern, label in ROLE_TRACKS:
        if pattern.search(text):
            return label
    return None


class _Offers:
    """The best recommendation per course so far: a later offer replaces one only with a higher score."""

    def __init__(self, courses: list[Course], completed: set[int]):
        self.by_id = {c.id: c for c in courses}
        self.by_slug = {c.slug: c for c in courses}
        self.completed = completed
        self.best: dict[int, Recommendation] = {}

    def offer(self, course: Course | None, reason: str, kind: str, score: int) -> None:
        if course is None or course.id in self.completed:
            return
        if course.id not in self.best or self.best[course.id].score < score:
            self.best[course.id] = Recommendation(course, reason, kind, score)


def recommendations_for(user: User, limit: int = 3, *, enrolments: dict[int, datetime | None] | None = None,
                        assignments: list[tuple[int, date | None, str | None]] | None = None) -> Recommendations:
    """Up to ``limit`` courses for the person, each with its reason. ``enrolments`` (course id -> completed at)
    and ``assignments`` ((course id, due on, assigner's name)) when the caller has read them already (the
    dashboard: two queries fewer), else they are read here."""
    courses = list(db.session.scalars(sa.select(Course).where(visible_courses(user))
                                      .order_by(Course.org_id.is_(None), Course.position, Course.title)))
    if not may_personalise(user):
        return Recommendations([Recommendation(c, _("In the catalogue's order"), "catalogue") for c in courses[:limit]],
                               personalised=False)
    if enrolments is None:
        enrolments = dict(db.session.execute(
            sa.select(Enrollment.course_id, Enrollment.completed_at).where(Enrollment.user_id == user.id)).all())
    offers = _Offers(courses, {cid for cid, done in enrolments.items() if done})
    _offer_assigned(offers, user, assignments)
    for cid, done in enrolments.items():
        if not done:
            offers.offer(offers.by_id.get(cid), _("Continue where you left off"), "continue", 80)
    latest = _offer_maturity(offers, user)
    _offer_role(offers, user)
    for cid, n in _popular_in_team(user):
        offers.offer(offers.by_id.get(cid), ngettext("Popular in your team (%(num)s colleague)", "Popular in your team (%(num)s colleagues)", n), "team", 40 + min(n, 9))
    if not enrolments and (latest is None or latest.level <= 2):
        offers.offer(offers.by_slug.get(START_COURSE), _("A good place to start"), "start", 50)
    for position, course in enumerate(courses):
        offers.offer(course, _("Next in the catalogue"), "catalogue", 10 - min(position, 9))
    items = sorted(offers.best.values(), key=lambda r: -r.score)[:limit]
    return Recommendations(items, personalised=True, all_done=bool(courses) and not items)


@dataclass
class MaturityStep:
    course: Course
    reasons: list[str]
    completed: bool


def maturity_recommendations(user: User, result: MaturityResult) -> list[MaturityStep] | None:
    """The courses that follow from a maturity result: for each dimension scored 3 or less, weakest first,
    the course that helps most with it (``R.DIMENSION_COURSES``), with the reason in words. None when the
    person objected to recommendations or restricted processing (nothing is derived from their result)."""
    if not may_personalise(user):
        return None
    slugs = set(R.DIMENSION_COURSES.values())
    courses = {c.slug: c for c in db.session.scalars(sa.select(Course).where(visible_courses(user), Course.slug.in_(slugs)))}
    completed = set(db.session.scalars(sa.select(Enrollment.course_id).where(
        Enrollment.user_id == user.id, Enrollment.completed_at.is_not(None))))
    order = list(R.DIMENSIONS)
    steps: dict[int, MaturityStep] = {}
    for dim, value in sorted(result.scores.items(), key=lambda kv: (kv[1], order.index(kv[0]) if kv[0] in order else 99)):
        course = courses.get(R.DIMENSION_COURSES.get(dim, ""))
        if value > 3 or course is None:
            continue
        step = steps.setdefault(course.id, MaturityStep(course, [], course.id in completed))
        step.reasons.append(_("Because your score for %(dimension)s is %(score)s of 5.",
                              dimension=_dimension_in_sentence(dim), score=value))
    return list(steps.values())


def _offer_assigned(offers: _Offers, user: User, assignments=None) -> None:
    """The courses assigned to the person, an overdue one first."""
    today = utcnow().date()
    if assignments is None:
        assignments = db.session.execute(sa.select(Assignment.course_id, Assignment.due_on, User.name)
                                         .outerjoin(User, User.id == Assignment.assigned_by_id)
                                         .where(Assignment.user_id == user.id)).all()
    for cid, due_on, assigner in assignments:
        if due_on and due_on < today:
            reason = _("Assigned by %(name)s, overdue since %(date)s", name=assigner or _("your manager"), date=format_day(due_on))
        elif due_on:
            reason = _("Assigned by %(name)s, due %(date)s", name=assigner or _("your manager"), date=format_day(due_on))
        else:
            reason = _("Assigned by %(name)s", name=assigner or _("your manager"))
        offers.offer(offers.by_id.get(cid), reason, "assigned", 100 + (10 if due_on and due_on < today else 0))


def _offer_maturity(offers: _Offers, user: User) -> MaturityResult | None:
    """Courses for the person's weakest maturity dimensions; their latest self-assessment (or None)."""
    latest = db.session.scalar(sa.select(MaturityResult).where(MaturityResult.user_id == user.id, MaturityResult.is_latest.is_(True)))
    if latest is not None:
        for dim, value in sorted(latest.scores.items(), key=lambda kv: kv[1]):
            if value <= 3 and dim in R.DIMENSION_COURSES:
                # a weak dimension (1-2) outranks the role; a middling one (3) only fills up the list
                offers.offer(offers.by_slug.get(R.DIMENSION_COURSES[dim]),
                             _("Your score for %(dimension)s is %(score)s of 5", dimension=_dimension_in_sentence(dim), score=value),
                             "maturity", 70 + (3 - int(value)) * 4 if value <= 2 else 45)
    return latest


def _offer_role(offers: _Offers, user: User) -> None:
    """The course for the person's job (from title and department) and, for managers and admins, on leading."""
    track = role_track(user)
    if track is not None:
        offers.offer(offers.by_slug.get(ROLE_COURSE), _("For your role in %(role)s", role=track), "role", 55)
    if user.role in (Role.MANAGER, Role.ADMIN):
        offers.offer(offers.by_slug.get(LEADER_COURSE), _("For your role as a manager") if user.role == Role.MANAGER
                     else _("For your role as your company's admin"), "role", 54)


def _dimension_in_sentence(dim: str) -> str:
    label = str(R.DIMENSIONS[dim])
    # English labels read as a phrase mid-sentence; German nouns keep their capital letter
    return label[0].lower() + label[1:] if str(get_locale() or "en").startswith("en") else label


def _popular_in_team(user: User, top: int = 3) -> list[tuple[int, int]]:
    """Courses most started by the person's teammates lately (who have not objected), one query."""
    my_teams = sa.select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)
    mates = (sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(my_teams), TeamMembership.user_id != user.id))
    # per teammate by primary key, not a scan of everyone's settings (NOT IN over the whole company)
    objects = sa.exists().where(
        PrivacySettings.user_id == Enrollment.user_id,
        sa.or_(PrivacySettings.restrict_processing.is_(True), PrivacySettings.object_recommendations.is_(True)))
    rows = db.session.execute(
        sa.select(Enrollment.course_id, sa.func.count(sa.distinct(Enrollment.user_id)).label("n"))
        .where(Enrollment.user_id.in_(mates), ~objects,
               Enrollment.created_at >= utcnow() - POPULAR_WINDOW)
        .group_by(Enrollment.course_id).having(sa.func.count(sa.distinct(Enrollment.user_id)) >= 2)
        .order_by(sa.desc("n")).limit(top)).all()
    return [(cid, n) for cid, n in rows]
