"""The route matrix's entries for one part of single sign-on and SCIM (issue 19); see tests/test_route_matrix.py
for what each key means. ``build`` adds this part's objects to the world (company A and B's), ``RESOLVERS``
turn them into URL values for "own", "sibling" and "other".

SAML (tests/test_sso_saml.py checks the answers themselves): company A and B sign in by SAML, with an IdP's
metadata, so every role gets our SP metadata (200) and is sent to the IdP by ``start`` (303), whichever
company's key it uses (public URLs). An empty POST to the ACS is a refused log-in (403, the refusal page), and
the finish page without a log-in's token is refused too (403)."""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from leadthe.extensions import db
from leadthe.sso.settings import for_org
from tests.fake_saml import FakeIdp
from tests.matrix_sso_oidc import RESOLVERS as OIDC_RESOLVERS

ROLES = ("anonymous", "staff", "learner", "manager", "admin")

MATRIX: dict[str, dict] = {
    "sso.saml_metadata": {"auth": "public", "obj": "sso_key", "cross": True},
    "sso.saml_start": {"auth": "public", "obj": "sso_key", "get": 303, "cross": True},
    "sso.saml_acs": {"auth": "public", "obj": "sso_key", "post": {r: 403 for r in ROLES}, "cross": True},
    "sso.saml_finish": {"auth": "public", "get": 403, "post": {r: 403 for r in ROLES}},
}

RESOLVERS: dict = {"sso_key": OIDC_RESOLVERS["sso_key"]}


@lru_cache(maxsize=None)
def idp_metadata(tag: str) -> tuple[str, str]:
    """(entity id, metadata XML) of an IdP for company ``tag``; made once per run (an RSA key each)."""
    with tempfile.TemporaryDirectory() as folder:
        idp = FakeIdp(Path(folder), entity_id=f"https://idp.{tag}.example/saml")
        return idp.entity_id, idp.metadata_xml()


def build(w, app, companies) -> None:
    """Company A and B sign in by SAML (their settings rows and keys come from tests/matrix_sso_oidc.py's build)."""
    with app.app_context():
        for tag, company in zip(("a", "b"), companies):
            settings = for_org(company.org.id)
            settings.protocol = "saml"
            settings.saml_idp_entity_id, settings.saml_idp_metadata = idp_metadata(tag)
        db.session.commit()
