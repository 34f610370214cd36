"""A company's single sign-on settings and verified domains, as the other modules read them."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

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
