"""Billing mail to a company's billing contacts (``members.contacts``), each sent once per occasion: the trial
ending in 7 and 1 days, a failed payment, a card about to expire, the company becoming read-only; and the
daily checks that find them (trial ends, overdue manual invoices, the grace period).

``notify(account, kind, key)`` is how the other parts ask for such a mail: ``key`` names the occasion (the
trial's end date, the processor's invoice id), so the same occasion never mails twice."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models.billing import BillingAccount, BillingNotice
from leadthe.tenancy import scoped

KINDS = ("trial_7d", "trial_1d", "payment_failed", "card_expiring", "read_only")


def notify(account: BillingAccount, kind: str, key: str = "", **context) -> bool:
    """Queue the ``kind`` mail for this occasion to the billing contacts, in the current transaction; False when
    it was already sent for this occasion."""
    if kind not in KINDS:
        raise ValueError(f"unknown billing notice {kind!r}")
    key = str(key)[:100]
    if db.session.scalar(scoped(BillingNotice, account.org_id).where(BillingNotice.kind == kind, BillingNotice.key == key)
                         .with_only_columns(sa.func.count())):
        return False
    db.session.add(BillingNotice(org_id=account.org_id, kind=kind, key=key))
    db.session.flush()
    return True  # issue 20, the dunning part: the mails themselves
