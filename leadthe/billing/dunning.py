"""Billing mail to a company's billing contacts (``members.contacts``), each sent once per occasion: the trial
ending in 7 and 1 days, a failed payment, a card about to expire, the company becoming read-only; and the
daily checks that find them (trial ends, overdue manual invoices, the grace period).

``notify(account, kind, key)`` is how the other parts ask for such a mail: ``key`` names the occasion (the
trial's end date, the processor's invoice id), so the same occasion never mails twice. The mails go through
the outbox, each in its recipient's language; their subjects hold no text a customer typed.

The daily job ``billing.daily`` finds the occasions with one aggregate query per check (occasions already
mailed are left out in the query), so a day's run costs queries per mail sent, not per company.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from leadthe.billing import accounts, members
from leadthe.extensions import db
from leadthe.mail import customer_text, long_date, queue_mail
from leadthe.models import Organization, utcnow
from leadthe.models.billing import BillingAccount, BillingNotice, Invoice
from leadthe.models.enums import BillingProviderKind, BillingStatus, InvoiceStatus, OrgStatus
from leadthe.tenancy import scoped, unscoped

KINDS = ("trial_7d", "trial_1d", "payment_failed", "card_expiring", "read_only")

SUBJECTS = {
    "trial_7d": _l("Your LeadThe.AI trial ends within a week"),
    "trial_1d": _l("Your LeadThe.AI trial ends tomorrow"),
    "payment_failed": _l("LeadThe.AI: your payment did not come through"),
    "card_expiring": _l("LeadThe.AI: the card for your subscription expires soon"),
    "read_only": _l("LeadThe.AI: your company's account is now read-only for admins"),
}
WHY = "the daily billing checks look at every company"


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
    _send(account, kind, context)
    return True


def billing_page_url() -> str:
    return current_app.config["SERVER_BASE_URL"].rstrip("/") + "/admin/billing"


def _send(account: BillingAccount, kind: str, context: dict) -> None:
    company = db.session.scalar(unscoped(sa.select(Organization.name).where(Organization.id == account.org_id),
                                         reason="the company's name for its billing mail"))
    read_only_at = accounts.read_only_since(account)
    values = {
        "company": customer_text(company), "link": billing_page_url(), "manual": account.provider == BillingProviderKind.MANUAL,
        "trial_end": long_date(account.trial_ends_at) if account.trial_ends_at else None,
        "read_only_date": long_date(read_only_at) if read_only_at else None,
        **{name: value for name, value in context.items() if name not in ("name", "company", "link")},
    }
    for person in members.contacts(account.org_id):
        first = customer_text((person.name or "").split(" ")[0], limit=60)
        queue_mail(person.email, SUBJECTS[kind], f"billing_{kind}", kind=f"billing_{kind}", user=person,
                   name=first or _l("there"), **values)


# --- the daily checks ------------------------------------------------------------------------------------------

def _not_yet(kind: str, key):
    """No notice of ``kind`` for the account's company with this key yet (correlated, inside one query)."""
    return ~sa.exists().where(BillingNotice.org_id == BillingAccount.org_id, BillingNotice.kind == kind,
                              BillingNotice.key == key)


def _day_key(when: datetime) -> str:
    return when.date().isoformat()


def _notify_new(rows, kind: str, key_of) -> int:
    """``notify`` for the accounts whose occasion was not mailed yet (the mailed ones found in one query)."""
    pairs = [(account, key_of(account)) for account in rows]
    if not pairs:
        return 0
    done = set(db.session.execute(unscoped(sa.select(BillingNotice.org_id, BillingNotice.key).where(
        BillingNotice.kind == kind, BillingNotice.org_id.in_({account.org_id for account, _key in pairs})), reason=WHY)).all())
    return sum(notify(account, kind, key) for account, key in pairs if (account.org_id, key) not in done)


def _start_implicit_trials(now: datetime, within: timedelta) -> None:
    """Companies without a billing account are in their trial from their creation: those whose trial ends within
    ``within`` get their account row (as their trial), so the checks below find them (one query to find them)."""
    days = timedelta(days=current_app.config["BILLING_TRIAL_DAYS"])
    stmt = (sa.select(Organization.id).outerjoin(BillingAccount, BillingAccount.org_id == Organization.id)
            .where(BillingAccount.id.is_(None), Organization.status != OrgStatus.CLOSED,
                   Organization.created_at > now - days, Organization.created_at <= now + within - days))
    for org_id in db.session.scalars(unscoped(stmt, reason=WHY)).all():
        accounts.account_for(org_id)


def trial_mails(now: datetime) -> int:
    """Trials ending within 7 days (the 7-day mail) or within a day (the last one), once per trial end."""
    _start_implicit_trials(now, timedelta(days=7))
    sent = 0
    for kind, low, high in (("trial_1d", timedelta(0), timedelta(days=1)), ("trial_7d", timedelta(days=1), timedelta(days=7))):
        rows = db.session.scalars(unscoped(sa.select(BillingAccount).where(
            BillingAccount.status == BillingStatus.TRIALING, BillingAccount.trial_ends_at > now + low,
            BillingAccount.trial_ends_at <= now + high), reason=WHY)).all()
        sent += _notify_new(rows, kind, lambda account: _day_key(account.trial_ends_at))
    return sent


def overdue_invoices(now: datetime) -> int:
    """Manual invoices past their due date and still open: the company is past due (from the first one on) and
    its contacts are mailed once per invoice."""
    stmt = (sa.select(Invoice, BillingAccount).join(BillingAccount, BillingAccount.org_id == Invoice.org_id)
            .where(Invoice.status == InvoiceStatus.OPEN, Invoice.provider == BillingProviderKind.MANUAL,
                   Invoice.due_at < now, BillingAccount.status.in_([s.value for s in accounts.PAYING]),
                   sa.or_(BillingAccount.status != BillingStatus.PAST_DUE, _not_yet("payment_failed", Invoice.number)))
            .order_by(Invoice.due_at, Invoice.id))
    sent = 0
    for invoice, account in db.session.execute(unscoped(stmt, reason=WHY)).all():
        accounts.set_status(account, BillingStatus.PAST_DUE, reason=f"invoice {invoice.number} overdue", now=now)
        sent += notify(account, "payment_failed", invoice.number, invoice_number=invoice.number,
                       due_date=long_date(invoice.due_at))
    return sent


def read_only_mails(now: datetime) -> int:
    """Past due beyond the grace period: admins' changes pause; the contacts hear it once per past-due spell."""
    grace = timedelta(days=current_app.config["BILLING_GRACE_DAYS"])
    rows = db.session.scalars(unscoped(sa.select(BillingAccount).where(
        BillingAccount.status == BillingStatus.PAST_DUE, BillingAccount.past_due_since <= now - grace), reason=WHY)).all()
    return _notify_new(rows, "read_only", lambda account: _day_key(account.past_due_since))


def daily_checks(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {"trial": trial_mails(now), "overdue": overdue_invoices(now), "read_only": read_only_mails(now)}


def run_daily(job) -> None:
    """Daily at 06:30 UTC: trial-ending mails, overdue manual invoices (past due), read-only mails. Safe to repeat:
    each mail goes once per occasion."""
    daily_checks()
