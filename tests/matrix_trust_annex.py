"""The route matrix's entries for the works-council annex (issue 21); see tests/test_route_matrix.py for what each key
means. The annex has no ids: it is for the company's admins (others 403, as every admin page), as HTML and PDF.
``build`` and ``sweep_values`` have nothing to add."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "trust_admin.annex": {"auth": "admin"},
    "trust_admin.annex_pdf_download": {"auth": "admin"},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing: the routes have no ids."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): none needed."""
    return {}
