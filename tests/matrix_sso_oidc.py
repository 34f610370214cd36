"""The route matrix's entries for one part of single sign-on and SCIM (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds this part's objects to the world (company A and B's), ``RESOLVERS``
turn them into URL values for "own", "sibling" and "other"."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    # the world's companies have no identity provider set up (protocol "none"): 404 for every key, as for an
    # unknown one (tests/test_sso_oidc.py signs in through a real provider)
    "sso.oidc_start": {"auth": "public", "obj": "sso_key", "get": 404, "cross": True},
    # no log-in under way in this browser: the refusal page (state_mismatch on GET, expired_attempt on POST)
    "sso.oidc_callback": {"auth": "public", "get": 403,
                          "post": {r: 403 for r in ("anonymous", "staff", "learner", "manager", "admin")}},
}

RESOLVERS: dict = {"sso_key": None}  # set below


def _sso_key(w, role, which):
    """Company A's single sign-on key for "own", company B's for "other" (public URLs: no sibling)."""
    if which == "sibling":
        return None
    return {"key": w.ids["sso_key_a" if which == "own" else "sso_key_b"]}


def build_sso_keys(w, app, companies) -> None:
    from leadthe.extensions import db
    from leadthe.sso.settings import for_org

    with app.app_context():
        for tag, company in zip(("a", "b"), companies):
            w.ids[f"sso_key_{tag}"] = for_org(company.org.id).public_key
        db.session.commit()


RESOLVERS["sso_key"] = _sso_key


def build(w, app, companies) -> None:
    """Add this part's objects to the world (``w.ids``); open an app context of your own (``with app.app_context()``)."""
    build_sso_keys(w, app, companies)
