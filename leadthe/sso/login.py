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
  18+ and accepts the privacy policy once (``/sso/welcome``: the verified claims wait, signed, in the
  session for at most ``WELCOME_MAX_AGE``).
- 2FA: not asked again when the IdP asserts MFA, otherwise the company's 2FA rule applies as for a password
  (a person with 2FA gives the code at ``/login/2fa``; a company that requires 2FA sends people without it to
  the set-up, by the ``require_2fa_setup`` guard once the session started).
- The session is ours (idle and absolute timeouts as for a password log-in).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, session, url_for
from flask_login import current_user
from flask_babel import get_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from leadthe import audit
from leadthe.auth import services
from leadthe.auth.passwords import UNUSABLE_SSO, is_usable
from leadthe.auth.reauth import mark_reauthenticated
from leadthe.billing.seats import NoSeats, check_room
from leadthe.extensions import db
from leadthe.htmx import render, see_other
from leadthe.models import User, utcnow
from leadthe.models.enums import Role, SsoProtocol
from leadthe.models.sso import SsoIdentity, SsoSettings
from leadthe.net import safe_next
from leadthe.signals import person_changed
from leadthe.sso.claims import REASONS, Claims, Refused
from leadthe.sso.settings import domain_of, verified_domain
from leadthe.tenancy import scoped, scoped_get, unscoped

WELCOME_MAX_AGE = 600  # seconds between the identity provider's answer and "Create my account"
_WELCOME_KEY = "sso_welcome"
MFA_KEY = "sso_mfa"  # set in the session when the identity provider asserted a second factor


def identity_for(claims: Claims) -> SsoIdentity | None:
    return db.session.scalar(unscoped(
        sa.select(SsoIdentity).where(SsoIdentity.issuer == claims.issuer, SsoIdentity.subject == claims.subject),
        reason="an identity-provider subject is looked up before anyone is signed in"))


def start_url(settings: SsoSettings, email: str = "", next_url: str | None = None, *, reauth: bool = False) -> str:
    """Where a log-in through the company's identity provider starts (its protocol's start URL). ``reauth``: a
    signed-in person confirming it is them, and the identity provider is asked to check them afresh."""
    endpoint = "sso.oidc_start" if settings.protocol == SsoProtocol.OIDC else "sso.saml_start"
    return url_for(endpoint, key=settings.public_key, next=next_url or None, login_hint=email or None,
                   reauth="1" if reauth else None)


def reauth_url(user, next_url: str) -> str | None:
    """For step-up: where a signed-in person without a password of their own confirms it is them, through their
    company's identity provider; None when they have a password or the company has no single sign-on on."""
    if user.org_id is None or is_usable(user.password_hash):
        return None
    settings = db.session.scalar(scoped(SsoSettings, user.org_id))
    if settings is None or not settings.enabled:
        return None
    return start_url(settings, user.email, next_url, reauth=True)


def _confirm_signed_in(claims: Claims, next_url: str) -> Response:
    """A signed-in person came back from the identity provider (step-up): it must be them, linked by the
    subject; then sensitive actions go ahead for a few minutes in this browser, as after their password."""
    user = current_user._get_current_object()
    identity = identity_for(claims)
    if identity is None or identity.user_id != user.id:
        raise Refused("reauth_other_account", subject=user)
    mark_reauthenticated()
    audit.record("reauth.success", actor=user, subject=user, via=claims.protocol)
    db.session.flush()
    return see_other(safe_next(next_url, url_for("privacy.centre")))


# --- who the claims name ------------------------------------------------------------------------------

def _linked_person(settings: SsoSettings, identity: SsoIdentity, claims: Claims) -> User:
    """The person a known subject is linked to; the address the IdP gives now is noted, nothing more."""
    if identity.org_id != settings.org_id:
        raise Refused("subject_linked_elsewhere")
    user = scoped_get(User, identity.user_id)
    _check_active(user)
    if claims.email:
        identity.email = services.normalize_email(claims.email)[:254]
    return user


def _check_active(user: User | None) -> None:
    if user is None or not user.is_active:
        raise Refused("inactive", subject=user, status=user.status if user is not None else "missing")


def _check_address(settings: SsoSettings, claims: Claims) -> str:
    """The claims' address, when it may name a person of this company (else ``Refused``)."""
    email = services.normalize_email(claims.email)
    if not email or "@" not in email:
        raise Refused("no_email")
    if not claims.email_verified:
        raise Refused("email_unverified")
    proof = verified_domain(domain_of(email))
    if proof is None:
        raise Refused("domain_unverified", domain=domain_of(email))
    if proof.org_id != settings.org_id:
        raise Refused("domain_other_company", domain=domain_of(email))
    return email


def _account_to_link(settings: SsoSettings, claims: Claims, email: str) -> User | None:
    """The company's account with the address, if there is one and it may be linked to this subject."""
    user = services.find_user_by_email(email)
    if user is None:
        return None
    if user.org_id != settings.org_id:
        raise Refused("account_other_company")
    other = db.session.scalar(scoped(SsoIdentity, settings.org_id).where(
        SsoIdentity.user_id == user.id, SsoIdentity.issuer == claims.issuer))
    if other is not None:
        raise Refused("account_linked_elsewhere", subject=user)
    _check_active(user)
    return user


def _link(settings: SsoSettings, user: User, claims: Claims) -> SsoIdentity:
    identity = SsoIdentity(org_id=settings.org_id, user_id=user.id, protocol=claims.protocol, issuer=claims.issuer,
                           subject=claims.subject, email=services.normalize_email(claims.email)[:254])
    db.session.add(identity)
    db.session.flush()
    return identity


def _resolve(settings: SsoSettings, claims: Claims) -> tuple[User | None, SsoIdentity | None]:
    """(the person, their link) for the claims; (None, None) when a new account would be made."""
    identity = identity_for(claims)
    if identity is not None:
        return _linked_person(settings, identity, claims), identity
    email = _check_address(settings, claims)
    user = _account_to_link(settings, claims, email)
    if user is None:
        if not settings.jit_enabled:
            raise Refused("jit_disabled", domain=domain_of(email))
        _check_seat(settings.org_id, lock=False)  # said before the welcome page; checked again, locked, on creation
        return None, None
    identity = _link(settings, user, claims)
    audit.record("sso.linked", actor=user, subject=user, org_id=settings.org_id, via=claims.protocol, by="email")
    return user, identity


def _check_seat(org_id: int, *, lock: bool = True) -> None:
    """A new account takes a seat: refused (the person is told only to ask their admin) when none is free."""
    try:
        check_room(org_id, lock=lock)
    except NoSeats as exc:
        raise Refused("no_new_accounts", paid=exc.paid, promised=exc.promised, read_only=exc.read_only) from exc


# --- the session -------------------------------------------------------------------------------------

def _sign_in(user: User, identity: SsoIdentity, claims: Claims, next_url: str) -> Response:
    identity.last_login_at = utcnow()
    target = safe_next(next_url, url_for("core.dashboard"))
    if not claims.mfa and user.has_2fa:
        # the IdP did not say it asked for a second factor: ours, exactly as after a password
        services.begin_second_step(user, target)
        db.session.flush()
        return see_other(url_for("auth.login_2fa"))
    details = {"via": claims.protocol}
    if claims.mfa:
        details["mfa"] = "idp"
    services.finish_login(user, **details)
    if claims.mfa:
        # this browser's session began with the IdP's second factor (for the company's 2FA rule, see the report)
        session[MFA_KEY] = claims.protocol
    db.session.flush()
    # a company that requires 2FA sends a person without it to the set-up (require_2fa_setup, on the next request)
    return see_other(target)


def finish(settings: SsoSettings, claims: Claims, next_url: str = "") -> Response:
    """Sign in the person the verified ``claims`` name (raises ``Refused``); a newcomer first confirms
    18+ and the privacy policy at ``/sso/welcome``."""
    if current_user.is_authenticated:
        return _confirm_signed_in(claims, next_url)
    user, identity = _resolve(settings, claims)
    if user is None:
        return _begin_welcome(settings, claims, next_url)
    return _sign_in(user, identity, claims, next_url)


def refuse(org_id: int | None, reason: str, *, subject=None, **details) -> Response:
    """The refusal page and its audit event (kept although the request rolls back)."""
    ref = secrets.token_hex(4)  # the person quotes it; the admin finds this very event in the audit log by it
    audit.record_apart("sso.refused", org_id=org_id, subject=subject, reason=reason, ref=ref, **details)
    message = REASONS.get(reason) or REASONS["invalid_response"]
    return render("sso/refused.html", status=403, reason=reason, message=str(message), ref=ref)


# --- a person created just in time: /sso/welcome -----------------------------------------------------

@dataclass
class Welcome:
    settings: SsoSettings
    claims: Claims
    next_url: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="leadthe.sso-welcome")


def _begin_welcome(settings: SsoSettings, claims: Claims, next_url: str) -> Response:
    """Keep the verified claims, signed and for ``WELCOME_MAX_AGE`` only, until the person confirms."""
    session.clear()
    session[_WELCOME_KEY] = _serializer().dumps({"org": settings.org_id, "claims": claims.to_dict(), "next": next_url or ""})
    return see_other(url_for("sso.welcome"))


def pending_welcome() -> Welcome | None:
    token = session.get(_WELCOME_KEY)
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=WELCOME_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    settings = db.session.scalar(scoped(SsoSettings, data["org"])) if data.get("org") else None
    if settings is None or not settings.enabled:
        return None
    return Welcome(settings, Claims.from_dict(data.get("claims") or {}), data.get("next") or "")


def end_welcome() -> None:
    session.pop(_WELCOME_KEY, None)


def _create_person(settings: SsoSettings, claims: Claims, name: str) -> tuple[User, SsoIdentity]:
    now = utcnow()
    user = User(org_id=settings.org_id, email=services.normalize_email(claims.email), name=name,
                job_title=(claims.job_title or "")[:120], department=(claims.department or "")[:120],
                role=Role.LEARNER, password_hash=UNUSABLE_SSO, password_changed_at=None,
                email_verified_at=now,  # the identity provider confirmed it (email_verified)
                locale=str(get_locale() or "en"))  # the language the person joined in, until they choose another
    db.session.add(user)
    db.session.flush()
    identity = _link(settings, user, claims)
    person_changed.send(user, changed={"joined"})  # required training follows newcomers
    audit.record("sso.user_created", actor=user, subject=user, org_id=settings.org_id, via=claims.protocol)
    return user, identity


def complete_welcome(pending: Welcome, name: str) -> Response:
    """The person confirmed 18+ and the policy: everything is checked again (the company may have changed its
    rules, or the account been made meanwhile), then the account is made, linked and signed in."""
    user, identity = _resolve(pending.settings, pending.claims)
    if user is None:
        _check_seat(pending.settings.org_id)
        user, identity = _create_person(pending.settings, pending.claims, name)
    end_welcome()
    return _sign_in(user, identity, pending.claims, pending.next_url)
