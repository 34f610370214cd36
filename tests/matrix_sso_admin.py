"""The route matrix's entries for /admin/sso and the mailed domain link (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds a verified domain of company A and one of company B (verified, so that
the admin's "check now" in the matrix needs no DNS), ``RESOLVERS`` turn them into URL values."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "sso_admin.settings": {"auth": "admin"},
    # an empty POST: no domain, no protocol, or no step-up password: the page again with the errors
    "sso_admin.add_domain": {"auth": "admin", "post": {"admin": 422}},
    "sso_admin.check_domain": {"auth": "admin", "obj": "sso_domain", "post": {"admin": 303}},
    "sso_admin.mail_domain": {"auth": "admin", "obj": "sso_domain"},
    "sso_admin.remove_domain": {"auth": "admin", "obj": "sso_domain", "post": {"admin": 422}},
    "sso_admin.save_provider": {"auth": "admin", "post": {"admin": 422}},
    "sso_admin.save_rules": {"auth": "admin", "post": {"admin": 422}},
    "sso_admin.scim_token": {"auth": "admin", "post": {"admin": 422}},
    "sso_admin.revoke_scim_token": {"auth": "admin", "post": {"admin": 422}},
    # the link mailed to an address at a domain: a forged token is 400 for everyone
    "sso.verify_domain": {"auth": "token", "obj": "token"},
}


def _sso_domain(w, role, which):
    if which == "sibling":
        return None
    return {"domain_id": w.ids["sso_domain_a" if which == "own" else "sso_domain_b"]}


RESOLVERS: dict = {"sso_domain": _sso_domain}


def build(w, app, companies) -> None:
    from leadthe.extensions import db
    from leadthe.models import utcnow
    from leadthe.models.sso import SsoDomain

    with app.app_context():
        for tag, company in zip(("a", "b"), companies):
            row = SsoDomain(org_id=company.org.id, domain=f"matrix-{tag}.example", token=f"token-{tag}",
                            verified_domain=f"matrix-{tag}.example", verified_at=utcnow(), method="dns")
            db.session.add(row)
            db.session.flush()
            w.ids[f"sso_domain_{tag}"] = row.id
        db.session.commit()
