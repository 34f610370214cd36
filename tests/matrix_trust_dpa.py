"""The route matrix's entries for the data processing agreement's routes (issue 21); see tests/test_route_matrix.py for
what each key means. ``build`` records an acceptance of version 1 by company A's admin and one by company B's admin,
``RESOLVERS`` turn them (and version 1's number) into URL values, and ``sweep_values`` gives the pages that open every
page (tests/helpers.every_page_data_set) their URL values. The DPA gate itself is off here (DPA_REQUIRED, as in the
rest of the suite); tests/test_dpa.py turns it on."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "trust.dpa_current": {"auth": "public"},
    "trust.dpa_version": {"auth": "public", "obj": "dpa_number", "cross": True},
    # an empty POST: no legal name, no confirmation: the form again with the errors (the current version is not
    # accepted by company A: build accepts version 1 and then publishes version 2)
    "trust_admin.dpa": {"auth": "admin", "post": {"admin": 422}},
    "trust_admin.dpa_pdf": {"auth": "admin", "obj": "dpa_acceptance"},
    # an empty POST: no summary, no text, no confirmation
    "trust_staff.dpa": {"auth": "staff", "post": {"staff": 422}},
    # staff download any company's acceptance record (audited on the company's log); everyone else: 404
    "trust_staff.dpa_pdf": {"auth": "staff", "obj": "dpa_acceptance", "cross": True},
}


def _dpa_number(w, role, which):
    return {"number": 1} if which == "own" else None


def _dpa_acceptance(w, role, which):
    if which == "sibling":
        return None
    return {"acceptance_id": w.ids["dpa_acceptance_a" if which == "own" else "dpa_acceptance_b"]}


RESOLVERS: dict = {"dpa_number": _dpa_number, "dpa_acceptance": _dpa_acceptance}


def build(w, app, companies) -> None:
    from leadthe.extensions import db
    from leadthe.models import User
    from leadthe.models.dpa import DpaVersion
    from leadthe.trust import dpa

    a, b = companies
    with app.test_request_context():
        version_1 = dpa.current_version()
        for key, company in (("dpa_acceptance_a", a), ("dpa_acceptance_b", b)):
            admin = db.session.get(User, company.admin.id)
            w.ids[key] = dpa.accept(admin, version_1, legal_name=f"{company.org.name} Ltd", address="1 Main Street").id
        db.session.add(DpaVersion(version=2, summary="Second version.", body_en="## Terms\n\nNew text.", body_de=""))
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): its acceptance (seed-demo
    records one) for the PDF, and version 1 for the public version page (``number`` is shared with the policies)."""
    from leadthe.extensions import db
    from leadthe.models.dpa import DpaAcceptance
    from leadthe.tenancy import scoped

    found = db.session.scalar(scoped(DpaAcceptance, org_id).with_only_columns(DpaAcceptance.id)
                              .order_by(DpaAcceptance.id).limit(1))
    return {"acceptance_id": str(found)} if found is not None else {}
