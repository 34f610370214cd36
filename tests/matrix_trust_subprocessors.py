"""The route matrix's entries for the sub-processor routes (issue 21); see tests/test_route_matrix.py for what each key
means. ``build`` announces version 2 of the list (open for objections) and adds an objection of each company to it,
``RESOLVERS`` turn them into URL values, and ``sweep_values`` gives the pages that open every page
(tests/helpers.every_page_data_set) their URL values.

The versions are public and the same for every company (``cross``); an objection belongs to its company: another
company's is 404 for an admin, and staff see every company's."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "trust.subprocessors": {"auth": "public"},
    "trust.subprocessor_version": {"auth": "public", "obj": "subprocessor_version", "cross": True},
    "trust_admin.subprocessors": {"auth": "admin"},
    # version 3, announced and not objected to: the form; an empty POST lacks the reason
    "trust_admin.object_to_change": {"auth": "admin", "obj": "subprocessor_open_version", "cross": True,
                                     "post": {"admin": 422}},
    "trust_admin.objection": {"auth": "admin", "obj": "subprocessor_objection"},
    "trust_staff.subprocessors": {"auth": "staff"},
    # an empty POST: no summary and no date: the form again with the errors
    "trust_staff.new_subprocessors": {"auth": "staff", "post": {"staff": 422}},
    "trust_staff.subprocessor_objections": {"auth": "staff"},
    # an empty POST: no answer
    "trust_staff.subprocessor_objection": {"auth": "staff", "obj": "subprocessor_objection", "cross": True,
                                           "post": {"staff": 422}},
}


def _version(number):
    def resolve(w, role, which):
        return {"number": number} if which == "own" else None
    return resolve


def _objection(w, role, which):
    if which == "sibling":
        return None
    return {"objection_id": w.ids["subprocessor_objection_a" if which == "own" else "subprocessor_objection_b"]}


RESOLVERS: dict = {"subprocessor_version": _version(2), "subprocessor_open_version": _version(3),
                   "subprocessor_objection": _objection}


def _announce(org_ids_admins) -> dict[str, int]:
    """Versions 2 and 3 announced (40 and 60 days ahead); each given company objects to version 2. Returns ids."""
    from datetime import date, timedelta

    import sqlalchemy as sa

    from leadthe.extensions import db
    from leadthe.models import utcnow
    from leadthe.models.subprocessors import SubprocessorEntry, SubprocessorObjection, SubprocessorVersion
    from leadthe.trust import subprocessors

    existing = db.session.scalar(sa.select(SubprocessorVersion).where(SubprocessorVersion.version == 1))
    if existing is None:
        existing = subprocessors.bundled_version()
        db.session.add(existing)
        db.session.flush()

    def copy(v, *extra):
        entries = [SubprocessorEntry(position=e.position, key=e.key, name=e.name, purpose=e.purpose, data=e.data,
                                     location=e.location, in_eea=e.in_eea, safeguard=e.safeguard, since=e.since,
                                     tables=e.tables) for e in v.entries]
        return entries + list(extra)

    now = utcnow()
    search = SubprocessorEntry(position=9, key="search", name="Search service", purpose="Finds courses by their words.",
                               data="Search terms.", location="Germany", in_eea=True,
                               safeguard="None needed: the data stays in the EU/EEA.", since=date(2027, 1, 1),
                               tables="search_query")
    second = SubprocessorVersion(version=2, effective_at=now + timedelta(days=40), summary="New: a search service.",
                                 entries=copy(existing, search))
    db.session.add(second)
    db.session.flush()
    third = SubprocessorVersion(version=3, effective_at=now + timedelta(days=60),
                                summary="Search service: new location Netherlands.",
                                entries=[SubprocessorEntry(position=e.position, key=e.key, name=e.name, purpose=e.purpose,
                                                           data=e.data, safeguard=e.safeguard, since=e.since, tables=e.tables,
                                                           in_eea=e.in_eea,
                                                           location="Netherlands" if e.key == "search" else e.location)
                                         for e in second.entries])
    db.session.add(third)
    db.session.flush()
    ids = {"version_2": second.id, "version_3": third.id}
    for org_id, admin_id in org_ids_admins:
        objection = SubprocessorObjection(org_id=org_id, version_id=second.id, objected_by_id=admin_id,
                                          reason="Works council approval first.")
        db.session.add(objection)
        db.session.flush()
        ids[f"objection_{org_id}"] = objection.id
    return ids


def build(w, app, companies) -> None:
    from leadthe.extensions import db

    a, b = companies
    with app.app_context():
        ids = _announce([(a.org.id, a.admin.id), (b.org.id, b.admin.id)])
        w.ids["subprocessor_objection_a"], w.ids["subprocessor_objection_b"] = ids[f"objection_{a.org.id}"], ids[f"objection_{b.org.id}"]
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): versions 2 and 3 announced,
    so the admin's pages show the notice; the company's objection to version 2 (``objection_id``: its receipt and
    the staff page answering it) and the objection form of version 3. ``number`` stays the policies' 1, which is
    also the first version of the list."""
    ids = _announce([(org_id, admin.id)])
    return {"objection_id": str(ids[f"objection_{org_id}"]),
            "@trust_admin.object_to_change": "/admin/subprocessors/3/object"}
