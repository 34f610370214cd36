"""Works-council mode (issue 21): a company setting under which managers and admins see only groups of at least
``MIN_GROUP`` people (team figures, no individual rows, no per-person CSV), leaderboards show only people who
opted in (``PrivacySettings.leaderboard_opt_in``), individual analytics are off and the evidence pack is reduced
to team level. Every page that shows people's figures to a manager or an admin asks ``active(org)`` and hides a
group for which ``too_small(n)`` holds.
"""
from __future__ import annotations

from flask import g

from leadthe.extensions import db

MIN_GROUP = 5  # the smallest group whose figures a manager or an admin may see in works-council mode


def active(org) -> bool:
    """Whether ``org`` (an Organization, its id, or None) is in works-council mode; cached per request by id."""
    if org is None:
        return False
    if not isinstance(org, int):
        return bool(org.works_council_mode)
    cache = g.setdefault("_works_council", {}) if g else {}
    if org not in cache:
        from leadthe.models import Organization
        found = db.session.get(Organization, org)
        cache[org] = bool(found and found.works_council_mode)
    return cache[org]


def too_small(n: int | None) -> bool:
    """A group of fewer than MIN_GROUP people: its figures are not shown in works-council mode."""
    return (n or 0) < MIN_GROUP
