"""The route matrix's entries for the trust access routes (issue 21); see tests/test_route_matrix.py for what each key
means. ``build`` adds what the entries need to the world, ``RESOLVERS`` turn it into URL values, and
``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values."""
from __future__ import annotations

MATRIX: dict[str, dict] = {}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing yet."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context)."""
    return {}
