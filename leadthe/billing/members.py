"""Billing contacts and the billing permission.

A ``BillingMember`` may open ``/admin/billing`` and the company's invoices without being an admin (and sees no
people data there). With ``receives_mail`` the member is a billing contact: invoices and dunning mail go to
the billing contacts, or to the company's admins while it has none.
"""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from leadthe.auth.sessions import session_fact
from leadthe.extensions import db
from leadthe.models import User
from leadthe.models.billing import BillingMember
from leadthe.models.enums import Role, UserStatus
from leadthe.tenancy import scoped


def is_member(user) -> bool:
    if not getattr(user, "is_authenticated", False) or user.org_id is None:
        return False
    known = session_fact(user, "billing_member")  # asked with the session at the start of the request
    if known is not None:
        return known
    # one indexed lookup (the account menu asks it on every page of a person who is not an admin)
    return bool(db.session.scalar(sa.select(sa.exists().where(
        BillingMember.org_id == user.org_id, BillingMember.user_id == user.id))))


def may_see_billing(user) -> bool:
    """Admins, and the people with the billing permission."""
    if not getattr(user, "is_authenticated", False) or user.org_id is None:
        return False
    return user.role == Role.ADMIN or is_member(user)


def billing_required(view):
    """Signed in (else the log-in page), and an admin or billing member of a company (else 403)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not may_see_billing(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def contacts(org_id: int) -> list[User]:
    """Who receives invoices and billing mail: the active billing contacts, else the active admins."""
    people = db.session.scalars(
        sa.select(User).join(BillingMember, BillingMember.user_id == User.id)
        .where(BillingMember.org_id == org_id, BillingMember.receives_mail.is_(True), User.status == UserStatus.ACTIVE)
        .order_by(BillingMember.id)).all()
    if people:
        return list(people)
    return list(db.session.scalars(sa.select(User).where(User.org_id == org_id, User.role == Role.ADMIN,
                                                         User.status == UserStatus.ACTIVE).order_by(User.id)).all())


def members(org_id: int) -> list[tuple[BillingMember, User]]:
    return list(db.session.execute(scoped(BillingMember, org_id).add_columns(User)
                                   .join(User, User.id == BillingMember.user_id).order_by(User.name, User.id)).all())
