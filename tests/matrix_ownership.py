"""The route matrix's entries for the change-of-ownership notice (issue 21); see tests/test_route_matrix.py for what
each key means. Staff announce it (everyone else 404, as for the whole staff area); every signed-in person can close
the notice, which is platform-wide (``cross``: no company to tell apart). ``build`` sends one; ``sweep_values`` sends
one for the demo, so the pages that open every page show its banner (axe, Nu, German words)."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    # an empty POST: no owner, no date, no text, no contact: the form again with the errors
    "staff.ownership_notice": {"auth": "staff", "post": {"staff": 422}},
    # an empty POST (no "next"): closed, back to the dashboard
    "support.dismiss_notice": {"auth": "login", "obj": "ownership_notice", "cross": True, "post": {r: 303 for r in (
        "staff", "learner", "manager", "admin")}},
}


def _ownership_notice(w, role, which):
    return {"notice_id": w.ids["ownership_notice"]} if which == "own" else None


RESOLVERS: dict = {"ownership_notice": _ownership_notice}


def _notice(**fields):
    from datetime import date

    from leadthe.models.support import Notice

    return Notice(kind="ownership", title="Change of ownership", new_owner="Northwind Learning GmbH",
                  transfer_on=date(2027, 2, 1), body="Northwind runs the platform from the same data centres.",
                  contact="privacy@leadthe.ai", **fields)


def build(w, app, companies) -> None:
    from leadthe.extensions import db

    with app.app_context():
        notice = _notice()
        db.session.add(notice)
        db.session.flush()
        w.ids["ownership_notice"] = notice.id
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): an ownership notice sent by
    the staff account (already mailed), so that every page carries its banner; the close route is POST only."""
    from leadthe.extensions import db
    from leadthe.models import utcnow

    notice = _notice(created_by_id=getattr(staff, "id", None), finished_at=utcnow())
    db.session.add(notice)
    db.session.flush()
    return {}
