"""A company's billing account: the subscription's state, seats, period and billing details.

Every company has one. Until it is first written, ``account_view`` answers the trial the company is in
(from the company's creation), without writing on a GET; ``account_for`` makes the row in the current
transaction. ``lock_account`` is how a change that depends on the seats begins: the row is locked (FOR
UPDATE on PostgreSQL; on SQLite a writing request already holds the write lock), so two requests of one
company never both take the last seat.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from leadthe import audit
from leadthe.extensions import db
from leadthe.models import Invitation, Organization, User, utcnow
from leadthe.models.billing import BillingAccount
from leadthe.models.enums import BillingProviderKind, BillingStatus, InvitationStatus, UserStatus
from leadthe.tenancy import scoped, unscoped

# what the company may do in each state: learners always learn; admins change things unless read-only
PAYING = (BillingStatus.ACTIVE, BillingStatus.PAST_DUE)


def configured_provider() -> str:
    """The provider new subscriptions use: Stripe when a secret key is configured, else manual invoicing."""
    return BillingProviderKind.STRIPE if current_app.config.get("STRIPE_SECRET_KEY") else BillingProviderKind.MANUAL


def _trial(org_id: int) -> BillingAccount:
    created = db.session.scalar(unscoped(sa.select(Organization.created_at).where(Organization.id == org_id),
                                         reason="the company itself, to date its trial")) or utcnow()
    cfg = current_app.config
    return BillingAccount(org_id=org_id, provider=configured_provider(), status=BillingStatus.TRIALING,
                          seats=cfg["BILLING_TRIAL_SEATS"], trial_ends_at=created + timedelta(days=cfg["BILLING_TRIAL_DAYS"]),
                          interval="month", cancel_at_period_end=False, credit_cents=0, legal_name="", address_line1="",
                          address_line2="", postcode="", city="", country="", vat_id="", vat_id_valid=False,
                          purchase_order="", stripe_customer_id="", stripe_subscription_id="")


def account_view(org_id: int) -> BillingAccount:
    """The company's account for reading: the stored row, or the trial it is in (not stored, not in the session)."""
    row = db.session.scalar(scoped(BillingAccount, org_id))
    return row if row is not None else _trial(org_id)


def account_for(org_id: int) -> BillingAccount:
    """The company's account for a change: made (as its trial) in the current transaction when missing."""
    row = db.session.scalar(scoped(BillingAccount, org_id))
    if row is None:
        row = _trial(org_id)
        db.session.add(row)
        db.session.flush()
    return row


def lock_account(org_id: int) -> BillingAccount:
    """The company's account, locked until the transaction ends (seat checks, state changes)."""
    account_for(org_id)
    return db.session.scalar(scoped(BillingAccount, org_id).with_for_update())


def seats_used(org_id: int) -> int:
    """Active people of the company: what the seats pay for."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.org_id == org_id, User.status == UserStatus.ACTIVE)) or 0


def seats_promised(org_id: int, now: datetime | None = None) -> int:
    """Active people plus invitations still open: a pending invitation holds a seat until it expires."""
    now = now or utcnow()
    pending = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation).where(
        Invitation.org_id == org_id, Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > now)) or 0
    return seats_used(org_id) + pending


def trial_over(account: BillingAccount, now: datetime | None = None) -> bool:
    return (account.status == BillingStatus.TRIALING and account.trial_ends_at is not None
            and account.trial_ends_at <= (now or utcnow()))


def read_only_since(account: BillingAccount) -> datetime | None:
    """When the company became (or becomes) read-only for admins' changes, or None while it pays or tries."""
    if account.status == BillingStatus.PAST_DUE and account.past_due_since is not None:
        return account.past_due_since + timedelta(days=current_app.config["BILLING_GRACE_DAYS"])
    if account.status == BillingStatus.CANCELLED:
        return account.current_period_end or account.cancelled_at or account.created_at
    if account.status == BillingStatus.TRIALING:
        return account.trial_ends_at
    return None


def is_read_only(account: BillingAccount, now: datetime | None = None) -> bool:
    """Admins' changes are paused: past due beyond the grace period, cancelled and ended, or a trial that ran
    out. Learners keep learning and nobody loses data; paying again lifts it at once."""
    since = read_only_since(account)
    return since is not None and since <= (now or utcnow())


def set_status(account: BillingAccount, status: str, *, actor=None, reason: str = "", now: datetime | None = None) -> bool:
    """Move the account to ``status`` (audited); False when it already was there. Past due keeps the day it
    began (the grace period counts from it); active clears it; cancelled records when."""
    now = now or utcnow()
    before = account.status
    if before == status:
        return False
    account.status = status
    if status == BillingStatus.PAST_DUE:
        account.past_due_since = account.past_due_since or now
    else:
        account.past_due_since = None
    if status == BillingStatus.CANCELLED:
        account.cancelled_at = now
    elif status == BillingStatus.ACTIVE:
        account.cancelled_at = None
    db.session.flush()
    audit.record("billing.status_changed", actor=actor, org_id=account.org_id, before=before, after=status,
                 reason=reason[:200])
    return True
