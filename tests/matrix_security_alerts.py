"""The route matrix's entries for the security alerts in the staff console (issue 23, leadthe/alerts); see
tests/test_route_matrix.py for what each key means. ``build`` adds an alert about company A and one about company
B, ``RESOLVERS`` turn them into URL values, and ``sweep_values`` gives the pages that open every page
(tests/helpers.every_page_data_set) their URL values.

Staff see every alert (``cross``); everyone else gets 404, as for the whole staff area."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "alerts_staff.security_alerts": {"auth": "staff"},
    # an empty POST: no action chosen: the alert's page again with the error
    "alerts_staff.security_alert": {"auth": "staff", "obj": "security_alert", "cross": True, "post": {"staff": 422}},
}


def _security_alert(w, role, which):
    if which == "sibling":
        return None
    return {"alert_id": w.ids["security_alert_a" if which == "own" else "security_alert_b"]}


RESOLVERS: dict = {"security_alert": _security_alert}


def _alert(org_id, actor_id, event_ids=()):
    from leadthe.models import utcnow
    from leadthe.models.alerts import SecurityAlert

    now = utcnow()
    return SecurityAlert(kind="tenancy.miss_burst", org_id=org_id, actor_id=actor_id, network="203.0.113.0/24",
                         count=10, first_seen=now, last_seen=now, details={"event_ids": list(event_ids)})


def build(w, app, companies) -> None:
    from leadthe.extensions import db

    a, b = companies
    with app.app_context():
        own, other = _alert(a.org.id, a.learner.id), _alert(b.org.id, b.learner.id)
        db.session.add_all([own, other])
        db.session.flush()
        w.ids["security_alert_a"], w.ids["security_alert_b"] = own.id, other.id
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): an open alert about its
    admin's account, with one of the company's audit events behind it, so the staff navigation shows its badge."""
    import sqlalchemy as sa

    from leadthe.extensions import db
    from leadthe.models import AuditEvent
    from leadthe.tenancy import unscoped

    events = db.session.scalars(unscoped(sa.select(AuditEvent.id).where(AuditEvent.org_id == org_id)
                                         .order_by(AuditEvent.id).limit(3), reason="test data")).all()
    alert = _alert(org_id, admin.id, events)
    db.session.add(alert)
    db.session.flush()
    return {"alert_id": str(alert.id)}
