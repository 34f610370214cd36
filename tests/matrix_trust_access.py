"""The route matrix's entries for the trust access routes (issue 21); see tests/test_route_matrix.py for what each key
means. ``build`` adds what the entries need to the world, ``RESOLVERS`` turn it into URL values, and
``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    # every signed-in person sees their own log, staff too (like the privacy centre): a staff member's is empty,
    # since nobody opens a staff member's data through a recorded view; signed out: the log-in page
    "trust.access_log": {"auth": "login"},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing: the page has no ids, and each person sees only their own entries."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): none, but the admin's log
    gets an entry (support opened their account with a grant), so that the sweep sees the filled page."""
    from leadthe.extensions import db
    from leadthe.models import AccessLogEntry, utcnow

    db.session.add(AccessLogEntry(org_id=org_id, subject_id=admin.id, viewer_id=staff.id, viewer_role="staff",
                                  what="staff_person_page", ref=f"/staff/users/{admin.id}", created_at=utcnow()))
    db.session.flush()
    return {}
