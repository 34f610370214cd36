"""Step-up re-authentication before sensitive actions (export, deletion, 2FA changes, e-mail change).

The person types the password, and with two-step verification also a code (TOTP or recovery code).
Success is remembered on the server-side session row (``user_session.reauth_at``) for a few minutes,
so a second sensitive action right after the first does not ask again in the same browser. Signing in with the
password (and code) starts the same window: the person proved it moments ago (NIST SP 800-63B counts
re-authentication from the last authentication), and an export asked for right after signing in no longer
checks the password twice (a bcrypt check is about a quarter of a second of a core).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _

from leadthe import audit
from leadthe.auth.passwords import check_password, is_usable
from leadthe.auth.twofactor import check_second_factor
from leadthe.database import write_apart
from leadthe.models import UserSession, utcnow

REAUTH_WINDOW = timedelta(minutes=5)


class ReauthProblem(str):
    """The message to show, and the form field (``password`` or ``code``) it belongs beside."""

    field: str = "password"

    def __new__(cls, message: str, field: str = "password"):
        obj = super().__new__(cls, message)
        obj.field = field
        return obj


def recently_reauthenticated() -> bool:
    record = g.get("user_session")
    return bool(record is not None and record.reauth_at and utcnow() - record.reauth_at < REAUTH_WINDOW)


def mark_reauthenticated() -> None:
    record = g.get("user_session")
    if record is not None:
        record.reauth_at = now = utcnow()
        # the person proved it is them even if the action it was for is refused (and rolled back) after
        keep = sa.update(UserSession).where(UserSession.id == record.id).values(reauth_at=now)
        write_apart(lambda conn: conn.execute(keep), only_if_refused=True)


def confirm_identity(user, password: str | None, code: str | None = None, *, allow_recent: bool = True) -> ReauthProblem | None:
    """None when the person proved it is them; otherwise the problem to show beside its field.

    ``allow_recent=False`` asks for every factor even within the re-authentication window (used for
    turning two-step verification off).
    """
    if allow_recent and recently_reauthenticated():
        return None
    if not is_usable(user.password_hash):
        # people who log in only through their company's identity provider confirm it is them there
        # (leadthe.sso.login.reauth_url; the form shows the way), or set a password with "Forgot your password?"
        return ReauthProblem(_("Confirm it is you at your company's identity provider first, then send this again."))
    if not password:
        return ReauthProblem(_("Enter your password to confirm it is you."))
    if not check_password(password, user.password_hash):
        audit.record_apart("reauth.failed", actor=user, subject=user, reason="password")
        return ReauthProblem(_("That is not your current password."))
    if user.has_2fa:
        if not code:
            return ReauthProblem(_("Enter the 6-digit code from your authenticator app, or a recovery code."), "code")
        if check_second_factor(user, code) is None:
            audit.record_apart("reauth.failed", actor=user, subject=user, reason="code")
            return ReauthProblem(_("That code is not valid, or it was already used. Wait for the next code and try again."), "code")
    mark_reauthenticated()
    audit.record("reauth.success", actor=user, subject=user)
    audit.record_apart("reauth.success", actor=user, subject=user, only_if_refused=True)
    return None


def show_problem(form, problem: ReauthProblem) -> None:
    """Put ``problem`` beside the field it concerns (the password field if the form has no code field)."""
    field = getattr(form, problem.field, None) or form.password
    field.errors = list(field.errors) + [str(problem)]
