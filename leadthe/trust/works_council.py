"""Works-council mode (issue 21): a company setting under which managers and admins see only groups of at least
``MIN_GROUP`` people (team figures, no individual rows, no per-person CSV), leaderboards show only people who
opted in (``PrivacySettings.leaderboard_opt_in``), individual analytics are off and the evidence pack is reduced
to team level. Every page that shows people's figures to a manager or an admin asks ``active(org)`` and hides a
group for which ``too_small(n)`` holds.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from leadthe.extensions import db
from leadthe.models import Organization, TeamMembership, User
from leadthe.models.enums import UserStatus

MIN_GROUP = 5  # the smallest group whose figures a manager or an admin may see in works-council mode


def active(org) -> bool:
    """Whether ``org`` (an Organization, its id, or None) is in works-council mode; cached per request by id."""
    if org is None:
        return False
    if not isinstance(org, int):
        return bool(org.works_council_mode)
    cache = g.setdefault("_works_council", {}) if g else {}
    if org not in cache:
        found = db.session.get(Organization, org)
        cache[org] = bool(found and found.works_council_mode)
    return cache[org]


def too_small(n: int | None) -> bool:
    """A group of fewer than MIN_GROUP people: its figures are not shown in works-council mode."""
    return (n or 0) < MIN_GROUP


# --- helpers of the pages that enforce the mode (issue 21) ---------------------------------------------------

def active_for(user) -> bool:
    """Whether ``user``'s company is in works-council mode (False for anyone outside a company)."""
    org_id = getattr(user, "org_id", None)
    return active(org_id) if org_id is not None else False


def team_figures_only(org) -> bool:
    """The AI-literacy pages' "team figures only": the company's own literacy setting, or works-council mode,
    which implies it (``org``: an Organization)."""
    return bool(org is not None and (org.literacy_team_figures_only or active(org)))


def shown(n: int | None) -> bool:
    """A group's figures may be shown in works-council mode: it stands for at least MIN_GROUP people."""
    return not too_small(n)


def team_sizes(team_ids) -> dict[int, int]:
    """Active members per team id, in one statement (teams without active members are left out)."""
    ids = list(team_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(TeamMembership.team_id, sa.func.count(sa.distinct(TeamMembership.user_id)))
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id.in_(ids), User.status == UserStatus.ACTIVE).group_by(TeamMembership.team_id))
    return {int(t): int(n) for t, n in rows}


def template_mode() -> bool:
    """Whether the signed-in person's company is in works-council mode (for the templates)."""
    return bool(getattr(current_user, "is_authenticated", False)) and active_for(current_user)
