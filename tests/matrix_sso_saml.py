"""The route matrix's entries for one part of single sign-on and SCIM (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds this part's objects to the world (company A and B's), ``RESOLVERS``
turn them into URL values for "own", "sibling" and "other"."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "sso.saml_metadata": {"auth": "public", "obj": "sso_key", "get": 404, "cross": True},
    "sso.saml_start": {"auth": "public", "obj": "sso_key", "get": 404, "cross": True},
    "sso.saml_acs": {"auth": "public", "obj": "sso_key", "post": {r: 404 for r in ("anonymous", "staff", "learner", "manager", "admin")}, "cross": True},
    "sso.saml_finish": {"auth": "public", "get": 404},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Add this part's objects to the world (``w.ids``); open an app context of your own (``with app.app_context()``)."""
