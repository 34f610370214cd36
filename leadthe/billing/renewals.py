"""Renewals of manual-invoicing subscriptions (the daily worker job "billing.renewals").

At the end of a paid period of a company that pays by invoice (bank transfer):
- cancelled at the period's end: the account becomes cancelled;
- otherwise the next period begins with the plan's NEWEST price version (a changed price applies to new
  periods only, never to a running one) and its invoice is issued (staff's credit taken off) and mailed.

Idempotent: the account's period moves on in the same transaction as its invoice, so a second run the same
day finds nothing due. Stripe subscriptions renew at the processor (its webhooks bring the invoices).
"""
from __future__ import annotations

import calendar
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from leadthe.billing import accounts, plans
from leadthe.billing.invoices import issue_invoice
from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.billing import BillingAccount, Plan, PlanVersion
from leadthe.models.enums import BillingInterval, BillingProviderKind, BillingStatus
from leadthe.tenancy import unscoped

MAX_CATCH_UP = 24  # periods issued at most per company and run (a worker that was down for a while catches up)


def add_months(value: datetime, months: int) -> datetime:
    """``value`` moved by whole months, the day clamped to the month's length (31 Jan + 1 month = 28/29 Feb)."""
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def period_after(start: datetime, interval: str) -> datetime:
    return add_months(start, 12 if interval == BillingInterval.YEAR else 1)


def _due(now: datetime) -> list[tuple[BillingAccount, Plan, PlanVersion]]:
    """Manual accounts whose paid period has ended, locked, with their plan's newest version (one query)."""
    newest = (sa.select(PlanVersion.plan_id, sa.func.max(PlanVersion.version).label("version"))
              .group_by(PlanVersion.plan_id).subquery())
    current = aliased(PlanVersion)
    stmt = (sa.select(BillingAccount, Plan, PlanVersion)
            .join(current, current.id == BillingAccount.plan_version_id)
            .join(Plan, Plan.id == current.plan_id)
            .join(newest, newest.c.plan_id == Plan.id)
            .join(PlanVersion, sa.and_(PlanVersion.plan_id == Plan.id, PlanVersion.version == newest.c.version))
            .where(BillingAccount.provider == BillingProviderKind.MANUAL,
                   BillingAccount.status.in_(accounts.PAYING), BillingAccount.current_period_end <= now)
            .order_by(BillingAccount.id).with_for_update(of=BillingAccount))
    return list(db.session.execute(unscoped(stmt, reason="the daily renewal of every company's manual subscription")).all())


def line_for(plan: Plan, version: PlanVersion, interval: str, seats: int) -> dict:
    """The invoice line of one period (a record: in English, as it is issued)."""
    per = "year" if interval == BillingInterval.YEAR else "month"
    return {"description": f"LeadThe.AI {plan.name}, per seat and {per}", "quantity": seats,
            "unit_cents": plans.price_cents(version, interval)}


def renew(account: BillingAccount, plan: Plan, version: PlanVersion, now: datetime) -> int:
    """Carry the account over its ended period(s); the number of invoices issued."""
    issued = 0
    while account.current_period_end <= now and issued < MAX_CATCH_UP:
        if account.cancel_at_period_end:
            accounts.set_status(account, BillingStatus.CANCELLED, reason="cancelled at the period's end", now=now)
            return issued
        start = account.current_period_end
        end = period_after(start, account.interval)
        account.plan_version_id, account.current_period_start, account.current_period_end = version.id, start, end
        issue_invoice(account, lines=[line_for(plan, version, account.interval, account.seats)], period_start=start,
                      period_end=end, currency=version.currency)
        issued += 1
    return issued


def run_renewals(now: datetime | None = None) -> int:
    """Renew or end every manual subscription whose period has ended; the number of invoices issued."""
    now = now or utcnow()
    return sum(renew(account, plan, version, now) for account, plan, version in _due(now))


def run_daily(job) -> None:
    """Daily at 05:00 UTC (before the day's dunning checks see the new invoices)."""
    run_renewals()
