"""Team writes: create, rename, delete, members and managers (a person may manage several teams)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from leadthe import audit
from leadthe.extensions import db
from leadthe.literacy.rules import apply_rules
from leadthe.models import Team, TeamMembership, User
from leadthe.models.enums import Role, UserStatus
from leadthe.signals import person_changed
from leadthe.tenancy import get_or_404


class TeamProblem(ValueError):
    pass


def _name_taken(org_id: int, name: str, except_id: int | None = None) -> bool:
    name = name.strip()
    # the exact name too: SQLite's lower() folds ASCII letters only, and the unique constraint is on the name as typed
    stmt = sa.select(Team.id).where(Team.org_id == org_id, sa.or_(Team.name == name, sa.func.lower(Team.name) == name.lower()))
    if except_id:
        stmt = stmt.where(Team.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_team(admin: User, name: str) -> Team:
    if _name_taken(admin.org_id, name):
        raise TeamProblem(_("There is already a team with this name."))
    team = Team(org_id=admin.org_id, name=name.strip())
    db.session.add(team)
    db.session.flush()
    audit.record("team.created", actor=admin, org_id=admin.org_id, team_id=team.id)
    return team


def rename_team(admin: User, team: Team, name: str) -> None:
    if _name_taken(admin.org_id, name, team.id):
        raise TeamProblem(_("There is already a team with this name."))
    team.name = name.strip()
    audit.record("team.renamed", actor=admin, org_id=admin.org_id, team_id=team.id)


def delete_team(admin: User, team: Team) -> None:
    audit.record("team.deleted", actor=admin, org_id=admin.org_id, team_id=team.id)
    members = list(db.session.scalars(sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)))
    db.session.execute(sa.delete(TeamMembership).where(TeamMembership.team_id == team.id))
    db.session.delete(team)  # its requirement rules go with it (ON DELETE CASCADE)
    db.session.flush()
    apply_rules(admin.org_id, members)  # once for all members: required training follows team changes


def add_member(admin: User, team: Team, email: str, manager: bool = False) -> User:
    person = db.session.scalar(sa.select(User).where(User.org_id == admin.org_id, User.email == email.strip().lower(),
                                                     User.status == UserStatus.ACTIVE))
    if person is None:
        raise TeamProblem(_("Nobody in your company has this e-mail address. Invite them first."))
    membership = db.session.scalar(sa.select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                                  TeamMembership.user_id == person.id))
    if membership is None:
        db.session.add(TeamMembership(org_id=admin.org_id, team_id=team.id, user_id=person.id, is_manager=manager))
    elif manager and not membership.is_manager:
        membership.is_manager = True
    else:
        raise TeamProblem(_("%(name)s is already in this team.", name=person.name))
    changed = {"team"} if membership is None else set()
    if manager and person.role == Role.LEARNER:
        person.role = Role.MANAGER  # managing a team needs the manager pages
        audit.record("role.changed", actor=admin, subject=person, role="manager", previous="learner", via="team")
        changed.add("role")
    audit.record("team.member_added", actor=admin, subject=person, team_id=team.id, manager=manager)
    if changed:
        db.session.flush()
        person_changed.send(person, changed=changed)
    return person


def membership_or_none(team: Team, user_id: int) -> TeamMembership | None:
    return db.session.scalar(sa.select(TeamMembership).where(TeamMembership.team_id == team.id, TeamMembership.user_id == user_id))


def remove_member(admin: User, team: Team, membership: TeamMembership) -> None:
    audit.record("team.member_removed", actor=admin, org_id=admin.org_id, team_id=team.id,
                 user_id=membership.user_id)
    person = get_or_404(User, membership.user_id, org_id=admin.org_id)
    db.session.delete(membership)
    db.session.flush()
    person_changed.send(person, changed={"team"})


def set_manager(admin: User, team: Team, membership: TeamMembership, manager: bool) -> None:
    membership.is_manager = manager
    person = get_or_404(User, membership.user_id)
    if manager and person.role == Role.LEARNER:
        person.role = Role.MANAGER
        audit.record("role.changed", actor=admin, subject=person, role="manager", previous="learner", via="team")
        db.session.flush()
        person_changed.send(person, changed={"role"})
    audit.record("team.manager_changed", actor=admin, subject=person, team_id=team.id, manager=manager)
