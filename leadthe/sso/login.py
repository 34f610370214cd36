"""The end every protocol shares: a verified answer of the identity provider (``Claims``) becomes a session.

The protocols (``oidc_views``, ``saml_views``) verify the identity provider's answer, then call ``finish``;
whatever is refused, by them or here, goes through ``refuse``: a clear page (403) and an audit event
``sso.refused`` with the reason, written apart so that it survives the refusal.

``finish`` (the rules of issue 19):
- The person is found by the stable subject (``issuer`` + ``subject``) once linked, never by a changed
  e-mail alone.
- Not linked yet: the address must be in a domain the company verified (not another company's, not an
  unverified one) and confirmed by the IdP (``email_verified``); an account of that company with the address
  is linked, unless it is linked to another subject already; without an account, one is created just in time
  when the company allows it (role learner, the required-training rules apply), and the person confirms
  18+ and accepts the privacy policy once (``/sso/welcome``).
- 2FA: not asked again when the IdP asserts MFA, otherwise the company's 2FA rule applies as for a password.
- The session is ours (idle and absolute timeouts as for a password log-in).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from werkzeug.wrappers import Response

from leadthe import audit
from leadthe.auth.sessions import start_session
from leadthe.extensions import db
from leadthe.htmx import render, see_other
from leadthe.models import User, utcnow
from leadthe.models.sso import SsoIdentity, SsoSettings
from leadthe.net import safe_next
from leadthe.sso.claims import REASONS, Claims, Refused
from leadthe.tenancy import scoped_get, unscoped


def identity_for(claims: Claims) -> SsoIdentity | None:
    return db.session.scalar(unscoped(
        sa.select(SsoIdentity).where(SsoIdentity.issuer == claims.issuer, SsoIdentity.subject == claims.subject),
        reason="an identity-provider subject is looked up before anyone is signed in"))


def finish(settings: SsoSettings, claims: Claims, next_url: str = "") -> Response:
    """Sign in the person the verified ``claims`` name (raises ``Refused``)."""
    identity = identity_for(claims)
    if identity is None or identity.org_id != settings.org_id:
        raise Refused("domain_unverified")
    user = scoped_get(User, identity.user_id)
    if user is None or not user.is_active:
        raise Refused("inactive")
    identity.last_login_at = utcnow()
    start_session(user)
    audit.record("login.success", actor=user, subject=user, via=claims.protocol)
    db.session.flush()
    return see_other(safe_next(next_url, url_for("core.dashboard")))


def refuse(org_id: int | None, reason: str, *, subject=None, **details) -> Response:
    """The refusal page and its audit event (kept although the request rolls back)."""
    audit.record_apart("sso.refused", org_id=org_id, subject=subject, reason=reason, **details)
    message = REASONS.get(reason) or REASONS["invalid_response"]
    return render("sso/refused.html", status=403, reason=reason, message=str(message))
