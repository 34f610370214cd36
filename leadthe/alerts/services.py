"""The staff console's side of the security alerts: the list (open first), one alert with the audit events behind
it, and the two steps staff take (acknowledge: someone is looking; close: dealt with), each audited. Platform
staff have no company: every query here goes around the tenant filter, with its reason."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import AuditEvent, Organization, User, utcnow
from leadthe.models.alerts import SecurityAlert
from leadthe.tenancy import unscoped

PER_PAGE = 25
STATUSES = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "closed": _l("Closed")}
STATUS_TONES = {"open": "err", "acknowledged": "warn", "closed": ""}
FILTERS = ("all", "open", "acknowledged", "closed")
_REASON = "platform staff: security alerts are platform-wide"


def list_alerts(status: str, page: int) -> tuple[list[SecurityAlert], int]:
    """One page of alerts (open, then acknowledged, then closed; the latest activity first) and the total."""
    stmt = sa.select(SecurityAlert)
    if status in STATUSES:
        stmt = stmt.where(SecurityAlert.status == status)
    total = db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(stmt.subquery()), reason=_REASON)) or 0
    rank = sa.case({"open": 0, "acknowledged": 1}, value=SecurityAlert.status, else_=2)
    rows = db.session.scalars(unscoped(stmt.order_by(rank, SecurityAlert.last_seen.desc(), SecurityAlert.id.desc())
                                       .limit(PER_PAGE).offset((page - 1) * PER_PAGE), reason=_REASON)).all()
    return list(rows), total


def get_alert(alert_id: int) -> SecurityAlert | None:
    return db.session.scalar(unscoped(sa.select(SecurityAlert).where(SecurityAlert.id == alert_id), reason=_REASON))


def events_of(alert: SecurityAlert) -> list[AuditEvent]:
    """The audit events behind the alert (those still in the log: retention removes them after two years)."""
    ids = [i for i in (alert.details or {}).get("event_ids", []) if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(unscoped(sa.select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id),
                                            reason="the audit events behind a platform-wide alert, for staff")))


def names_for(alert: SecurityAlert) -> dict:
    """The company's name and the accounts' e-mail addresses the page shows (one query each, not per row)."""
    company = None
    if alert.org_id is not None:
        company = db.session.scalar(unscoped(sa.select(Organization.name).where(Organization.id == alert.org_id),
                                             reason=_REASON))
    people = [i for i in (alert.actor_id, alert.acknowledged_by_id, alert.closed_by_id) if i is not None]
    emails = dict(db.session.execute(unscoped(sa.select(User.id, User.email).where(User.id.in_(people)),
                                              reason=_REASON)).all()) if people else {}
    return {"company": company, "emails": emails}


def acknowledge(alert: SecurityAlert, staff) -> bool:
    if alert.status != "open":
        return False
    alert.status, alert.acknowledged_by_id, alert.acknowledged_at = "acknowledged", staff.id, utcnow()
    audit.record("security_alert.acknowledged", actor=staff, org_id=None, alert_id=alert.id)
    return True


def close(alert: SecurityAlert, staff) -> bool:
    if alert.status == "closed":
        return False
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_by_id, alert.acknowledged_at = staff.id, now
    alert.status, alert.closed_by_id, alert.closed_at = "closed", staff.id, now
    audit.record("security_alert.closed", actor=staff, org_id=None, alert_id=alert.id)
    return True
