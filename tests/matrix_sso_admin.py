"""The route matrix's entries for one part of single sign-on and SCIM (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds this part's objects to the world (company A and B's), ``RESOLVERS``
turn them into URL values for "own", "sibling" and "other"."""
from __future__ import annotations

MATRIX: dict[str, dict] = {}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Add this part's objects to the world (``w.ids``); open an app context of your own (``with app.app_context()``)."""
