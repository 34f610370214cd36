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


def sweep_values(org_id: int, admin) -> dict[str, str]:
    """URL values for the pages that open every page (tests/helpers.every_page_data_set; call it inside its
    request context with the demo company and its admin): an unverified domain of the company with a link
    mailed for it. ``domain_id`` fills /admin/sso/domains/<domain_id>/…; ``@sso.verify_domain`` is the mailed link
    (the sweep's LINK_PAGES: visited by the company's admin; PARKED_TOKEN_LINKS: it parks its token)."""
    import re

    import sqlalchemy as sa

    from leadthe.extensions import db
    from leadthe.models import OutboxMail
    from leadthe.sso import domains

    row = domains.claim(org_id, admin, "sweep-example.com")
    domains.send_link(row, admin, "postmaster")
    db.session.flush()
    body = db.session.scalar(sa.select(OutboxMail.body_text).where(OutboxMail.kind == "sso_verify_domain")
                             .order_by(OutboxMail.id.desc()))
    return {"domain_id": str(row.id), "@sso.verify_domain": re.search(r"https?://[^/\s]+(/sso/verify-domain/\S+)", body).group(1)}
