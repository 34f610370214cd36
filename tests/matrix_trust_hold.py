"""The route matrix's entries for the legal-hold routes (issue 21); see tests/test_route_matrix.py for what each key
means. ``build`` adds a hold on a person of company A and one on company B, ``RESOLVERS`` turn them into URL values,
and ``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values.

Staff and the DPO manage holds on every company (``cross``); everyone else gets 404, as for the whole staff area."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "trust_staff.legal_holds": {"auth": "staff"},
    # an empty POST: no target, no reason: the form again with the errors
    "trust_staff.new_legal_hold": {"auth": "staff", "post": {"staff": 422}},
    # an empty POST: no reason and no change reason
    "trust_staff.legal_hold": {"auth": "staff", "obj": "legal_hold", "cross": True, "post": {"staff": 422}},
    # an empty POST: no release reason and no confirmation
    "trust_staff.release_legal_hold": {"auth": "staff", "obj": "legal_hold", "cross": True, "post": {"staff": 422}},
}


def _legal_hold(w, role, which):
    if which == "sibling":
        return None
    return {"hold_id": w.ids["legal_hold_a" if which == "own" else "legal_hold_b"]}


RESOLVERS: dict = {"legal_hold": _legal_hold}


def _hold(**target):
    from leadthe.models import utcnow
    from leadthe.models.holds import LegalHold

    return LegalHold(reason="Claim by a former employee", reference="LG-2026-1", starts_at=utcnow(), **target)


def build(w, app, companies) -> None:
    from leadthe.extensions import db

    a, b = companies
    with app.app_context():
        own, other = _hold(user_id=a.learner.id), _hold(org_id=b.org.id)
        db.session.add_all([own, other])
        db.session.flush()
        w.ids["legal_hold_a"], w.ids["legal_hold_b"] = own.id, other.id
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): an active hold on one of
    its people (``hold_id``), placed by the staff account, so the DPO queue shows its badge too."""

    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.models.enums import Role
    from leadthe.tenancy import scoped

    person = db.session.scalar(scoped(User, org_id).where(User.role != Role.ADMIN).order_by(User.id).limit(1)) or admin
    hold = _hold(user_id=person.id, created_by_id=getattr(staff, "id", None))
    db.session.add(hold)
    db.session.flush()
    return {"hold_id": str(hold.id)}
