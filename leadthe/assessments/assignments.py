"""Course assignments: a manager (for the teams they manage) or an admin (anyone in the company) asks a
person or a whole team to take a course, optionally by a date. A team assignment becomes one row per
member at that moment; assigning again updates the due date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import abort

from leadthe import audit
from leadthe.courses.services import visible_courses
from leadthe.courses.translation import title_of
from leadthe.database import shared_alias, upsert
from leadthe.extensions import db
from leadthe.models import Assignment, Course, Enrollment, Team, TeamMembership, User, utcnow
from leadthe.models.enums import Role, UserStatus
from leadthe.query_args import id_or_404
from leadthe.trust.works_council import too_small


def managed_team_ids(user: User) -> list[int] | None:
    """The teams whose people ``user`` may assign to: None means every team (an admin)."""
    if user.role == Role.ADMIN:
        return None
    if user.role != Role.MANAGER:
        return []  # a team flag left over from an earlier role gives no rights
    return list(db.session.scalars(sa.select(TeamMembership.team_id).where(
        TeamMembership.user_id == user.id, TeamMembership.is_manager.is_(True), TeamMembership.org_id == user.org_id)))


def may_assign(user: User) -> bool:
    return user.org_id is not None and (user.role == Role.ADMIN or bool(managed_team_ids(user)))


def assignable_teams(user: User) -> list[Team]:
    ids = managed_team_ids(user)
    stmt = sa.select(Team).where(Team.org_id == user.org_id).order_by(Team.name)
    if ids is not None:
        stmt = stmt.where(Team.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt))


def assignable_courses(user: User) -> list[tuple[int, str]]:
    """The courses ``user`` may assign (those they can see), as (id, title), in catalogue order."""
    rows = db.session.execute(sa.select(Course.id, Course.title).where(visible_courses(user))
                              .order_by(Course.position, Course.title)).all()
    return [(cid, title_of("course", cid, title)) for cid, title in rows]


def assignable_people(user: User, limit: int = 500) -> list[User]:
    ids = managed_team_ids(user)
    stmt = sa.select(User).where(User.org_id == user.org_id, User.status == UserStatus.ACTIVE).order_by(User.name).limit(limit)
    if ids is not None:
        stmt = stmt.where(User.id.in_(sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(ids or [-1]))))
    return list(db.session.scalars(stmt))


def _found_or_404(stmt):
    row = db.session.scalar(stmt)
    if row is None:
        abort(404)
    return row


def target_team_or_404(actor: User, team_id) -> Team:
    ids = managed_team_ids(actor)
    team_id = id_or_404(team_id)
    if ids is not None and team_id not in ids:
        abort(404)  # another team's (or company's) id looks exactly like a missing one
    return _found_or_404(sa.select(Team).where(Team.id == team_id, Team.org_id == actor.org_id))


def target_person_or_404(actor: User, user_id) -> User:
    ids = managed_team_ids(actor)
    stmt = sa.select(User).where(User.id == id_or_404(user_id), User.org_id == actor.org_id, User.status == UserStatus.ACTIVE)
    if ids is not None:
        stmt = stmt.where(User.id.in_(sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(ids or [-1]))))
    return _found_or_404(stmt)


def course_or_404(actor: User, course_id) -> Course:
    return _found_or_404(sa.select(Course).where(Course.id == id_or_404(course_id), visible_courses(actor)))


def assign(actor: User, course: Course, user_ids: list[int], due_on: date | None, team_id: int | None = None) -> int:
    """Upsert one assignment per person (one statement); returns how many people it covers."""
    if not user_ids:
        return 0
    now = utcnow()
    rows = [{"org_id": actor.org_id, "user_id": uid, "course_id": course.id, "team_id": team_id,
             "assigned_by_id": actor.id, "due_on": due_on, "created_at": now} for uid in user_ids]
    stmt = upsert(Assignment).values(rows)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["user_id", "course_id"],
        set_={"due_on": stmt.excluded.due_on, "assigned_by_id": stmt.excluded.assigned_by_id,
              "team_id": stmt.excluded.team_id}))
    audit.record("assignment.created", actor=actor, course_id=course.id, people=len(user_ids), team_id=team_id,
                 due_on=due_on.isoformat() if due_on else None)
    return len(user_ids)


def team_member_ids(team: Team) -> list[int]:
    return list(db.session.scalars(sa.select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id)
                                   .where(TeamMembership.team_id == team.id, User.status == UserStatus.ACTIVE)))


@dataclass
class AssignmentRow:
    id: int
    user_id: int
    person: str
    course_id: int
    course_slug: str
    course: str
    due_on: date | None
    completed_at: datetime | None
    assigned_by: str | None

    @property
    def overdue(self) -> bool:
        return self.completed_at is None and self.due_on is not None and self.due_on < utcnow().date()


def _rows(where, limit: int | None = None) -> list[AssignmentRow]:
    assigner = shared_alias(User, "assigner")
    stmt = (
        sa.select(Assignment.id, Assignment.user_id, User.name, Course.id, Course.slug, Course.title, Assignment.due_on,
                  Enrollment.completed_at, assigner.name)
        .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
        .outerjoin(Enrollment, sa.and_(Enrollment.user_id == Assignment.user_id, Enrollment.course_id == Assignment.course_id))
        .outerjoin(assigner, assigner.id == Assignment.assigned_by_id)
        .where(where, User.status == UserStatus.ACTIVE)
        .order_by(Enrollment.completed_at.is_not(None), Assignment.due_on.is_(None), Assignment.due_on, User.name)
    )
    if limit:
        stmt = stmt.limit(limit)
    return [AssignmentRow(*row[:5], title_of("course", row[3], row[5]), *row[6:]) for row in db.session.execute(stmt)]


def assignments_of(user: User) -> list[AssignmentRow]:
    """The person's assignments, open and overdue first (for the dashboard)."""
    return _rows(Assignment.user_id == user.id)


def assignments_for_team(team_ids: list[int], limit: int | None = 1000) -> list[AssignmentRow]:
    """Assignments of the active members of these teams (for manager views): one query."""
    members = sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids or [-1]))
    return _rows(Assignment.user_id.in_(members), limit)


def assignments_for_org(org_id: int, limit: int = 200) -> list[AssignmentRow]:
    return _rows(Assignment.org_id == org_id, limit)


@dataclass
class AssignmentGroup:
    """Works-council mode: the assignments of one course with one due date, as counts (``hidden``: fewer than
    MIN_GROUP people, no figures)."""
    course: str
    due_on: date | None
    people: int
    completed: int
    overdue: int
    hidden: bool = False


def assignment_groups(org_id: int, team_ids: list[int] | None) -> list[AssignmentGroup]:
    """Per course and due date, the people assigned, completed and overdue among the active people in view
    (the whole company, or the members of ``team_ids``): one aggregate statement."""
    today = utcnow().date()
    done = Enrollment.completed_at.is_not(None)
    late = sa.and_(Enrollment.completed_at.is_(None), Assignment.due_on.is_not(None), Assignment.due_on < today)
    where = Assignment.org_id == org_id if team_ids is None else Assignment.user_id.in_(
        sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids or [-1])))
    stmt = (sa.select(Course.id, Course.title, Assignment.due_on, sa.func.count(sa.distinct(Assignment.user_id)),
                      sa.func.sum(sa.case((done, 1), else_=0)), sa.func.sum(sa.case((late, 1), else_=0)))
            .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
            .outerjoin(Enrollment, sa.and_(Enrollment.user_id == Assignment.user_id, Enrollment.course_id == Assignment.course_id))
            .where(where, User.status == UserStatus.ACTIVE)
            .group_by(Course.id, Course.title, Assignment.due_on).order_by(Assignment.due_on.is_(None), Assignment.due_on, Course.title))
    groups = []
    for course_id, title, due_on, people, completed, overdue in db.session.execute(stmt):
        name = title_of("course", course_id, title)
        groups.append(AssignmentGroup(name, due_on, 0, 0, 0, hidden=True) if too_small(people)
                      else AssignmentGroup(name, due_on, int(people), int(completed or 0), int(overdue or 0)))
    return groups
