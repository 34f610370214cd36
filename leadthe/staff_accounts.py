"""Platform staff accounts: granted only from the command line, never through the web."""
from __future__ import annotations

from leadthe import audit
from leadthe.auth.passwords import hash_password, password_problems
from leadthe.auth.services import find_user_by_email, normalize_email
from leadthe.extensions import db
from leadthe.models import User, utcnow


def create_or_promote_staff(email: str, role: str, password: str, name: str | None = None) -> tuple[User, bool]:
    email = normalize_email(email)
    if "@" not in email:
        raise ValueError("give an e-mail address")
    problems = password_problems(password, email, [name or ""])
    if problems:
        raise ValueError(" ".join(problems))
    user = find_user_by_email(email)
    created = user is None
    if created:
        user = User(email=email, name=name or email.split("@")[0], org_id=None, role=role,
                    password_hash=hash_password(password), password_changed_at=utcnow(), email_verified_at=utcnow())
        db.session.add(user)
    else:
        if user.org_id is not None:
            raise ValueError("that address belongs to a company account; staff accounts are separate")
        user.role = role
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    db.session.flush()
    audit.record("staff.granted", subject=user, role=role, via="cli")
    db.session.commit()
    return user, created
