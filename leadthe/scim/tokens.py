"""A company's SCIM bearer tokens: made at random, shown once, only their SHA-256 stored, one active at a time
(making a new one revokes the old one: rotation), every use timed."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.sso import ScimToken
from leadthe.tenancy import scoped, unscoped

PREFIX = "ltscim_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def active_token(org_id: int) -> ScimToken | None:
    return db.session.scalar(scoped(ScimToken, org_id).where(ScimToken.revoked_at.is_(None)).order_by(ScimToken.id.desc()))


def issue(org_id: int, admin) -> str:
    """A new token for the company (the old one stops working); the only time the token itself is seen."""
    revoke(org_id, admin, rotated=True)
    token = PREFIX + secrets.token_urlsafe(32)
    db.session.add(ScimToken(org_id=org_id, token_hash=_hash(token), hint=token[-4:], created_by_id=admin.id))
    db.session.flush()
    audit.record("scim.token_created", actor=admin, org_id=org_id)
    return token


def revoke(org_id: int, admin, rotated: bool = False) -> bool:
    current = active_token(org_id)
    if current is None:
        return False
    current.revoked_at = utcnow()
    if not rotated:
        audit.record("scim.token_revoked", actor=admin, org_id=org_id)
    return True


def token_for(bearer: str) -> ScimToken | None:
    """The active token a request's ``Authorization: Bearer …`` value is, whichever company's, or None."""
    if not bearer or not bearer.startswith(PREFIX) or len(bearer) > 200:
        return None
    return db.session.scalar(unscoped(
        sa.select(ScimToken).where(ScimToken.token_hash == _hash(bearer), ScimToken.revoked_at.is_(None)),
        reason="the bearer token names its company; no company is known before it"))
