"""Who sees whom in the admin area: company admins see their whole company, managers only the teams
they manage. Everything that is out of view answers 404, exactly like something that does not exist."""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from leadthe.extensions import db
from leadthe.models import Team, TeamMembership, User
from leadthe.models.enums import Role, UserStatus
from leadthe.tenancy import get_or_404

# Everyone else (locked, erasure pending, closed) is left out of every list and every lookup.
LISTED_STATUSES = (UserStatus.ACTIVE, UserStatus.DEACTIVATED)


def manager_or_admin_required(view):
    """The admin area's pages that managers may see too (for their teams only)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if current_user.org_id is None or current_user.role not in (Role.ADMIN, Role.MANAGER):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def require_admin(user) -> None:
    if user.role != Role.ADMIN:
        abort(403)


def is_admin(user) -> bool:
    return user.role == Role.ADMIN


def managed_team_ids(user) -> sa.Select:
    stmt = sa.select(TeamMembership.team_id).where(TeamMembership.user_id == user.id, TeamMembership.is_manager.is_(True))
    if user.role not in (Role.ADMIN, Role.MANAGER):
        stmt = stmt.where(sa.false())  # a team flag left over from an earlier role gives no rights
    return stmt


def scope_user_ids(viewer, team_id: int | None = None, statuses=("active",)) -> sa.Select:
    """SELECT of the ids of the people ``viewer`` may see (optionally: only one team's members)."""
    stmt = sa.select(User.id).where(User.org_id == viewer.org_id, User.status.in_(statuses))
    if team_id is not None:
        stmt = stmt.where(User.id.in_(sa.select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)))
    if not is_admin(viewer):
        stmt = stmt.where(User.id.in_(sa.select(TeamMembership.user_id).where(TeamMembership.team_id.in_(managed_team_ids(viewer)))))
    return stmt


def visible_person_or_404(viewer, user_id) -> User:
    person = get_or_404(User, user_id, viewer.org_id)
    if person.status not in LISTED_STATUSES:
        abort(404)
    if not is_admin(viewer) and person.id != viewer.id:
        shared = db.session.scalar(sa.select(TeamMembership.id).where(
            TeamMembership.user_id == person.id, TeamMembership.team_id.in_(managed_team_ids(viewer))).limit(1))
        if shared is None:
            abort(404)
    return person


def visible_team_or_404(viewer, team_id) -> Team:
    team = get_or_404(Team, team_id, viewer.org_id)
    if not is_admin(viewer):
        manages = db.session.scalar(managed_team_ids(viewer).where(TeamMembership.team_id == team.id).limit(1))
        if manages is None:
            abort(404)
    return team
