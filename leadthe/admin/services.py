"""Company admin writes, and the company's audit log."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, User, utcnow
from leadthe.tenancy import scoped

SETTINGS = ("require_2fa", "leaderboard_enabled", "literacy_team_figures_only")
AUDIT_PAGE = 50


def update_company_settings(org: Organization, admin: User, values: dict) -> list[str]:
    changed = [name for name in SETTINGS if bool(values[name]) != bool(getattr(org, name))]
    if org.twofa_decided_at is None:
        org.twofa_decided_at = utcnow()  # saving the settings, changed or not, is the onboarding's 2FA decision
    for name in changed:
        setattr(org, name, bool(values[name]))
    if changed:
        audit.record("org.settings_changed", actor=admin, org_id=org.id, **{name: bool(values[name]) for name in changed})
    return changed


def company_audit(org_id: int, page: int):
    stmt = scoped(AuditEvent, org_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(
        stmt.add_columns(User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)).all()
    return rows, total
