"""Sign-up, log-in, e-mail verification and password reset."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.account.security import is_new_device, notify_new_device
from leadthe.auth import drafts
from leadthe.auth.passwords import burn_equal_time, check_password, hash_password
from leadthe.auth.sessions import revoke_all_sessions, start_session
from leadthe.extensions import db
from leadthe.net import absolute_url, client_ip, safe_next, user_agent
from leadthe.mail import queue_mail
from leadthe.models import Organization, User, utcnow
from leadthe.sso.settings import settings_for_email
from leadthe.tenancy import scoped_get, unscoped

VERIFY_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600


class EmailTaken(Exception):
    pass


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(
        unscoped(sa.select(User).where(User.email == normalize_email(email)), reason="an address is one account across companies")
    )


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"leadthe.{salt}")


def _fingerprint(value: str | None) -> str:
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def create_company(*, name, email, password, organization, job_title="", department="") -> User:
    """A new company with its first admin, and the verification mail, in one transaction."""
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    org = Organization(name=organization)
    db.session.add(org)
    db.session.flush()
    user = User(
        org_id=org.id,
        email=email,
        name=name,
        job_title=job_title or "",
        department=department or "",
        password_hash=hash_password(password),
        role="admin",
        password_changed_at=utcnow(),
        locale=str(get_locale() or "en"),  # the language the person signed up in, until they choose another
    )
    db.session.add(user)
    db.session.flush()
    audit.record("signup", actor=user, subject=user, organization=org.name)
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    token = _serializer("verify-email").dumps({"uid": user.id, "email": user.email})
    _mail_link(user, _l("Confirm your e-mail address for LeadThe.AI"), "verify_email", "auth.verify_email", token)


def _mail_link(user: User, subject, template: str, endpoint: str, token: str) -> None:
    """Mail the person a link with a token (the mail's kind is its template's name)."""
    queue_mail(user.email, subject, template, kind=template, user=user, name=user.first_name,
               link=absolute_url(endpoint, token=token))


def user_for_verification(token: str) -> User | None:
    try:
        data = _serializer("verify-email").loads(token, max_age=VERIFY_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = scoped_get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        return None
    return user


def confirm_email(user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record("email.verified", actor=user, subject=user)


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    refused: User | None = None  # the right password for an account that is not active


GENERIC_LOGIN_ERROR = _l("That e-mail address and password don't match an account. Check both and try again.")


def authenticate(email: str, password: str) -> LoginResult:
    """Check the credentials; failures get one wording and about the same time whatever went wrong."""
    user = find_user_by_email(email)
    if user is None:
        burn_equal_time(password)
        audit.record_apart("login.failed", reason="unknown_email", email_hash=_fingerprint(normalize_email(email)))
        return LoginResult(None, str(GENERIC_LOGIN_ERROR))
    if not check_password(password, user.password_hash):
        audit.record_apart("login.failed", subject=user, reason="bad_password")
        return LoginResult(None, str(GENERIC_LOGIN_ERROR))
    if not user.is_active:
        audit.record_apart("login.refused", subject=user, reason=user.status)
        return LoginResult(None, str(_l("This account is not active. Please ask your company's LeadThe.AI admin.")), refused=user)
    return LoginResult(user)


def finish_login(user: User, *, proved_now: bool = False, **details) -> None:
    """Start the real session once the person proved who they are (the password, and the code for people
    with 2FA; or their company's identity provider): the audit event and the new-device notice.

    ``proved_now``: the password (and code) were checked for this sign-in, so an export or a deletion in the next
    minutes does not ask for them again (``leadthe.auth.reauth``). Not for single sign-on: the identity provider
    may have let the person in on an older session of its own without asking for anything."""
    new_device = is_new_device(user, user_agent())
    start_session(user, proved_now=proved_now)
    audit.record("login.success", actor=user, subject=user, **details)
    if new_device:
        notify_new_device(user, user_agent(), client_ip())


def password_login_refused(settings, user: User | None) -> bool:
    """Whether the company's single sign-on replaces the password for ``user`` (``settings``: the company of
    the address's verified domain, single sign-on on, or None). "SSO required" covers the addresses of its
    verified domains except its one named break-glass admin (who keeps the password and 2FA for when the
    identity provider is down)."""
    if settings is None or not settings.sso_required:
        return False
    return user is None or settings.break_glass_user_id != user.id


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way (no enumeration). Nothing
    either for an address whose company requires single sign-on: the password would not let them in (the
    page says so for the whole domain, which the log-in page tells anyone anyway)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active or password_login_refused(settings_for_email(user.email), user):
        return
    token = _serializer("reset-password").dumps({"uid": user.id, "ph": _fingerprint(user.password_hash)})
    _mail_link(user, _l("Reset your LeadThe.AI password"), "reset_password", "auth.reset_password", token)
    audit.record("password.reset_requested", subject=user)


def user_for_reset(token: str) -> User | None:
    """The user a reset link is for, or None when it is forged, expired or already used.

    The token carries a fingerprint of the password hash it was issued against, so it stops working
    the moment the password changes: single use without a table of spent tokens.
    """
    try:
        data = _serializer("reset-password").loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = scoped_get(User, data.get("uid"))
    if user is None or not user.is_active or data.get("ph") != _fingerprint(user.password_hash):
        return None
    return user


def reset_password(user: User, new_password: str) -> None:
    set_password(user, new_password, event="password.reset")


def set_password(user: User, new_password: str, *, event: str, keep_session_id: int | None = None) -> None:
    """Change the password and sign the user out everywhere (but the current browser, if given)."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    revoked = revoke_all_sessions(user.id, except_id=keep_session_id)
    audit.record(event, actor=user, subject=user, sessions_revoked=revoked)
    queue_mail(
        user.email,
        _l("Your LeadThe.AI password was changed"),
        "password_changed",
        kind="security_notice",
        user=user,
        name=user.first_name,
    )


# --- the second step of a log-in with two-step verification -------------------------------------------

SECOND_STEP_MAX_AGE = 300  # seconds between a correct password and the code
_PENDING_KEY = "login_2fa"


def begin_second_step(user: User, next_url: str) -> None:
    """After a correct password: remember, signed and for 5 minutes only, who is half-way through.

    The browser gets no session yet (``start_session`` runs only after the code). The token carries a
    fingerprint of the password hash, so a password change in between voids it, and a nonce, so that
    two log-ins never share one.
    """
    kept = drafts.take_for(user.id)
    session.clear()
    drafts.put_back(kept)
    session[_PENDING_KEY] = _serializer("login-2fa").dumps(
        {"uid": user.id, "n": secrets.token_urlsafe(16), "ph": _fingerprint(user.password_hash)})
    session[_PENDING_KEY + "_next"] = next_url


def pending_second_step() -> User | None:
    """The person whose password was just accepted, or None (no log-in under way, or it took too long)."""
    token = session.get(_PENDING_KEY)
    if not token:
        return None
    try:
        data = _serializer("login-2fa").loads(token, max_age=SECOND_STEP_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = scoped_get(User, data.get("uid"))
    if user is None or not user.is_active or not user.has_2fa or data.get("ph") != _fingerprint(user.password_hash):
        return None
    return user


def pending_user_id() -> str:
    """For rate limits: the account a second step is for (unverified: only a bucket name)."""
    token = session.get(_PENDING_KEY)
    if not token:
        return ""
    try:
        return str(_serializer("login-2fa").loads_unsafe(token)[1].get("uid", ""))
    except Exception:  # noqa: BLE001 - a garbled cookie just has no account bucket
        return ""


def second_step_next(default: str) -> str:
    return safe_next(session.get(_PENDING_KEY + "_next"), default)


def end_second_step() -> None:
    session.pop(_PENDING_KEY, None)
    session.pop(_PENDING_KEY + "_next", None)


# --- keeping an account whose deletion is in its grace period -------------------------------------------

KEEP_MAX_AGE = 600  # seconds between the correct password and "Keep my account"
_KEEP_KEY = "keep_account"


def begin_keep_account(user: User, next_url: str) -> None:
    """After the correct password for an account whose deletion is scheduled: remember, signed and for
    10 minutes, who may cancel it (no session yet; a password change in between voids it)."""
    session.clear()
    session[_KEEP_KEY] = _serializer("keep-account").dumps({"uid": user.id, "ph": _fingerprint(user.password_hash)})
    session[_KEEP_KEY + "_next"] = next_url


def pending_keep_account() -> User | None:
    token = session.get(_KEEP_KEY)
    if not token:
        return None
    try:
        data = _serializer("keep-account").loads(token, max_age=KEEP_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = scoped_get(User, data.get("uid"))
    if user is None or data.get("ph") != _fingerprint(user.password_hash):
        return None
    return user


def keep_account_next(default: str) -> str:
    return safe_next(session.get(_KEEP_KEY + "_next"), default)


def end_keep_account() -> None:
    session.pop(_KEEP_KEY, None)
    session.pop(_KEEP_KEY + "_next", None)
