"""The route matrix's entries for the trust records routes (issue 21); see tests/test_route_matrix.py for what each key
means. The records of processing have no ids: the company's view is for its admins (others 403), ours for staff and
the DPO (everyone else 404). ``build`` and ``sweep_values`` have nothing to add."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "trust_admin.records": {"auth": "admin"},
    "trust_admin.records_csv": {"auth": "admin"},
    "trust_admin.records_json": {"auth": "admin"},
    "trust_staff.records": {"auth": "staff"},
    "trust_staff.records_csv": {"auth": "staff"},
    "trust_staff.records_json": {"auth": "staff"},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing: the routes have no ids."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): none needed."""
    return {}
