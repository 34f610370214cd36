"""Manual invoicing: the company pays our invoices by bank transfer; no processor (the default when no Stripe key
is configured, so ``make run`` works offline). Invoices are issued by us at the start of each period and when
seats are added; staff mark them paid (``/staff/billing``); an invoice unpaid after its due date makes the
account past due (the daily check in ``dunning``).

Nothing here calls an outside service, so ``actions.submit`` carries a request out at once, in the admin's
own request and transaction. Fewer seats take effect at once, without a refund; more seats are invoiced for
the rest of the period, prorated by days.
"""
from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta

from leadthe import audit
from leadthe.billing import accounts, invoices, plans
from leadthe.billing.provider import ProviderError
from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.billing import BillingAccount, Plan, PlanVersion
from leadthe.models.enums import BillingProviderKind, BillingStatus


def period_after(start: datetime, interval: str) -> datetime:
    return start + (relativedelta(years=1) if interval == "year" else relativedelta(months=1))


def prorated_cents(unit_cents: int, start: datetime, end: datetime, now: datetime) -> int:
    """``unit_cents`` for what is left of the period start–end as of ``now`` (by days, rounded half up)."""
    total = max((end - start).days, 1)
    left = min(max((end - now).days, 0), total)
    return (unit_cents * left * 2 + total) // (2 * total)


def _with_credit(account: BillingAccount, lines: list[dict]) -> list[dict]:
    """Take the account's credit off the invoice's net amount (as a negative line), up to that amount."""
    net = sum(int(line.get("amount_cents", line["quantity"] * line["unit_cents"])) for line in lines)
    used = min(account.credit_cents or 0, net)
    if used <= 0:
        return lines
    account.credit_cents -= used
    return [*lines, {"description": "Credit", "quantity": 1, "unit_cents": -used}]


def _period_words(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d} to {(end - relativedelta(days=1)):%Y-%m-%d}"


def start_period(account: BillingAccount, version: PlanVersion, interval: str, seats: int, user, *,
                 now: datetime | None = None):
    """Begin a paid period now for ``seats`` seats of ``version`` and issue its invoice (subscribe, reactivate)."""
    now = now or utcnow()
    if seats < accounts.seats_promised(account.org_id, now):
        raise ProviderError("seats_below_used")
    plan = db.session.get(Plan, version.plan_id)
    end = period_after(now, interval)
    account.provider = BillingProviderKind.MANUAL
    account.plan_version_id, account.interval, account.seats = version.id, interval, seats
    account.current_period_start, account.current_period_end = now, end
    account.cancel_at_period_end = False
    accounts.set_status(account, BillingStatus.ACTIVE, actor=user, reason="subscribed (manual invoicing)", now=now)
    lines = _with_credit(account, [{
        "description": f"{plan.name} plan, {seats} seats, {_period_words(now, end)}",
        "quantity": seats, "unit_cents": plans.price_cents(version, interval)}])
    invoice = invoices.issue_invoice(account, lines=lines, period_start=now, period_end=end, issued_at=now)
    db.session.flush()
    return invoice


class ManualProvider:
    kind = BillingProviderKind.MANUAL
    slow = False

    def subscribe(self, account, version, interval, seats, user):
        account = accounts.lock_account(account.org_id)
        invoice = start_period(account, version, interval, seats, user)
        audit.record("billing.subscribed", actor=user, org_id=account.org_id, provider=self.kind,
                     plan_version_id=version.id, interval=interval, seats=seats, invoice=invoice.number)
        return None

    def change_seats(self, account, seats, user):
        account = accounts.lock_account(account.org_id)
        now = utcnow()
        if account.status not in accounts.PAYING or account.current_period_end is None:
            raise ProviderError("no_subscription")
        if seats < accounts.seats_promised(account.org_id, now):
            raise ProviderError("seats_below_used")
        before = account.seats
        invoice = None
        if seats > before:
            invoice = self._invoice_added(account, seats - before, now)
        account.seats = seats
        db.session.flush()
        audit.record("billing.seats_changed", actor=user, org_id=account.org_id, before=before, after=seats,
                     invoice=invoice.number if invoice else "")

    @staticmethod
    def _invoice_added(account, added: int, now: datetime):
        version = db.session.get(PlanVersion, account.plan_version_id)
        plan = db.session.get(Plan, version.plan_id)
        start, end = account.current_period_start or now, account.current_period_end
        unit = prorated_cents(plans.price_cents(version, account.interval), start, end, now)
        lines = _with_credit(account, [{
            "description": f"{plan.name} plan, {added} more seats, {_period_words(now, end)} (prorated)",
            "quantity": added, "unit_cents": unit}])
        return invoices.issue_invoice(account, lines=lines, period_start=now, period_end=end, issued_at=now)

    def portal_url(self, account, user):
        return None

    def cancel(self, account, user):
        account = accounts.lock_account(account.org_id)
        if account.status not in accounts.PAYING:
            raise ProviderError("no_subscription")
        account.cancel_at_period_end = True
        db.session.flush()
        audit.record("billing.cancelled", actor=user, org_id=account.org_id,
                     period_end=account.current_period_end.isoformat() if account.current_period_end else "")

    def reactivate(self, account, user):
        account = accounts.lock_account(account.org_id)
        now = utcnow()
        running = account.current_period_end is not None and account.current_period_end > now
        if account.status in accounts.PAYING and running:
            account.cancel_at_period_end = False
            db.session.flush()
            audit.record("billing.reactivated", actor=user, org_id=account.org_id, new_period=False)
            return None
        old = db.session.get(PlanVersion, account.plan_version_id) if account.plan_version_id else None
        version = plans.latest_version(old.plan_id) if old else None
        if version is None:
            raise ProviderError("no_plan")
        seats = max(account.seats, accounts.seats_promised(account.org_id, now))
        invoice = start_period(account, version, account.interval, seats, user, now=now)
        audit.record("billing.reactivated", actor=user, org_id=account.org_id, new_period=True, invoice=invoice.number)
        return None
