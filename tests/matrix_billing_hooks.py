"""The route matrix's entries for the billing hooks routes (issue 20); see tests/test_route_matrix.py for what each
key means. ``build`` adds what the entries need to the world, ``RESOLVERS`` turn it into URL values, and
``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values.

``POST /billing/webhooks/stripe`` is Stripe's, not a session's: no role changes its answer and it needs no
CSRF token (tests/test_security.py's CSRF_EXEMPT, with the reason). The matrix's app has no webhook secret,
so the route is not there for anyone (404); with a secret, an unsigned POST is 400 for everyone
(tests/test_billing_stripe.py, ``test_an_unsigned_post_is_400_for_every_role``)."""
from __future__ import annotations

ROLES = ("anonymous", "staff", "learner", "manager", "admin")

MATRIX: dict[str, dict] = {
    "billing_hooks.stripe": {"auth": "public", "post": {r: 404 for r in ROLES}},
}

RESOLVERS: dict = {}


def build(w, app, companies) -> None:
    """Nothing: the webhook has no objects of its own."""


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context)."""
    return {}
