"""A company's single sign-on settings and verified domains, as the other modules read them."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadthe.database import write_transaction
from leadthe.extensions import db
from leadthe.models.sso import SsoDomain, SsoSettings
from leadthe.tenancy import scoped, unscoped


def for_org(org_id: int) -> SsoSettings:
    """The company's settings row, made (protocol "none") on first use."""
    current = db.session.scalar(scoped(SsoSettings, org_id))
    if current is None:
        current = SsoSettings(org_id=org_id, public_key=secrets.token_urlsafe(12))
        db.session.add(current)
        db.session.flush()
    return current


def _new(org_id: int) -> SsoSettings:
    return SsoSettings(org_id=org_id, public_key=secrets.token_urlsafe(12), protocol="none", oidc_issuer="",
                       oidc_client_id="", saml_metadata_url="", saml_idp_metadata="", saml_idp_entity_id="",
                       saml_allow_idp_initiated=False, jit_enabled=True, sso_required=False)


def for_org_apart(org_id: int) -> SsoSettings | None:
    """For a GET (whose own session writes nothing): the company's row, made in a short transaction of its own
    when missing, so that the admin page can show the SAML values (they name the company by its public key)
    before anything is saved. None when another request made it at the same moment (the page shows it next time)."""
    current = db.session.scalar(scoped(SsoSettings, org_id))
    if current is not None:
        return current
    try:
        with write_transaction() as conn, Session(bind=conn, expire_on_commit=False) as own:
            made = _new(org_id)
            own.add(made)
            own.flush()
            own.expunge(made)
    except IntegrityError:
        return None
    return made


def by_public_key(key: str) -> SsoSettings | None:
    """The settings behind the service provider's public URLs (/sso/saml/<key>/…), before anyone is signed in."""
    return db.session.scalar(unscoped(sa.select(SsoSettings).where(SsoSettings.public_key == key),
                                      reason="an identity provider's request names the company by its public key"))


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in (email or "") else ""


def verified_domain(domain: str) -> SsoDomain | None:
    """The company's proof of ``domain``, whichever company it is (a domain is verified by one company only)."""
    if not domain:
        return None
    return db.session.scalar(unscoped(sa.select(SsoDomain).where(SsoDomain.verified_domain == domain),
                                      reason="a log-in address is matched with every company's verified domains"))


def settings_for_email(email: str) -> SsoSettings | None:
    """The settings of the company that verified the address's domain, if its single sign-on is on."""
    proof = verified_domain(domain_of(email))
    if proof is None:
        return None
    current = db.session.scalar(unscoped(sa.select(SsoSettings).where(SsoSettings.org_id == proof.org_id),
                                         reason="the company of a verified domain, before anyone is signed in"))
    return current if current is not None and current.enabled else None
