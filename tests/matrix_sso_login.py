"""The route matrix's entries for one part of single sign-on and SCIM (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds this part's objects to the world (company A and B's), ``RESOLVERS``
turn them into URL values for "own", "sibling" and "other"."""
from __future__ import annotations

SIGNED_IN = ("staff", "learner", "manager", "admin")

MATRIX: dict[str, dict] = {
    # the address alone (signed-in people: the dashboard); an empty POST is the form again with its error
    "sso.login_start": {"auth": "public", "roles": {r: 302 for r in SIGNED_IN}},
    # no first log-in waiting for its confirmation: back to the log-in page (signed-in people: the dashboard)
    "sso.welcome": {"auth": "public", "get": 302, "post": {"anonymous": 303, **{r: 302 for r in SIGNED_IN}}},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing of this part's own: its pages take no ids."""
