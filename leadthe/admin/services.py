"""Company admin writes, and the company's audit log."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe import audit
from leadthe.admin.works_council import change_mode
from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, User, utcnow
from leadthe.tenancy import scoped

SETTINGS = ("require_2fa", "leaderboard_enabled", "literacy_team_figures_only", "works_council_mode")
AUDIT_PAGE = 50


def update_company_settings(org: Organization, admin: User, values: dict, reason: str = "") -> list[str]:
    """Save the settings that changed (a setting missing from ``values`` stays as it is). Works-council mode has its
    own audit events and notifies everyone in the company (leadthe.admin.works_council); turning it off takes
    ``reason``, which the form requires."""
    values = {name: bool(values.get(name, getattr(org, name))) for name in SETTINGS}
    changed = [name for name in SETTINGS if values[name] != bool(getattr(org, name))]
    if org.twofa_decided_at is None:
        org.twofa_decided_at = utcnow()  # saving the settings, changed or not, is the onboarding's 2FA decision
    others = [name for name in changed if name != "works_council_mode"]
    for name in others:
        setattr(org, name, values[name])
    if others:
        audit.record("org.settings_changed", actor=admin, org_id=org.id, **{name: values[name] for name in others})
    if "works_council_mode" in changed:
        change_mode(org, admin, values["works_council_mode"], reason)
    return changed


def company_audit(org_id: int, page: int):
    stmt = scoped(AuditEvent, org_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(
        stmt.add_columns(User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)).all()
    return rows, total
