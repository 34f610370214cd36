"""Step-up re-authentication before sensitive actions (export, deletion, ...)."""
from __future__ import annotations

from leadthe import audit
from leadthe.auth.passwords import check_password


def confirm_identity(user, password: str | None, code: str | None = None) -> str | None:
    """None when the person proved it is them; otherwise the message to show beside the field.

    Two-factor codes join here once accounts can have them.
    """
    if not password or not check_password(password, user.password_hash):
        audit.record("reauth.failed", actor=user, subject=user)
        return "That is not your current password."
    return None
