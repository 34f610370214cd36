"""The processor's event ledger and the worker's handling of its events (Stripe).

The webhook records an event once (``record``: unique per provider and event id) and queues the job
"billing.event"; the recurring "billing.events" sweep picks up what is still pending or failed (up to
``MAX_ATTEMPTS`` tries; the error is kept). Handling never trusts the event's copy of the object: it fetches
the CURRENT subscription, invoice or customer from Stripe and brings the company's account in line with it,
so events that arrive twice or out of order leave the right state.

- subscriptions (``customer.subscription.*``, ``checkout.session.completed`` → its subscription): state,
  seats (the item's quantity), period, cancellation at the period's end, plan version (by price id);
- ``invoice.paid``: our own invoice once per Stripe invoice, then the subscription's state;
- ``invoice.payment_failed``: past due, and the "payment failed" mail to the billing contacts;
- ``customer.source.expiring``: the "card expiring" mail, when the customer's card really is about to expire;
- anything else: recorded and done, nothing changed.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import sqlalchemy as sa

from leadthe.billing import accounts, dunning, invoices
from leadthe.billing.stripe_provider import calls, client, data
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.models import Organization, utcnow
from leadthe.models.billing import BillingAccount, BillingEvent, Invoice, PlanVersion
from leadthe.models.enums import BillingEventStatus, BillingInterval, BillingProviderKind, BillingStatus
from leadthe.tenancy import tenant, unscoped
from leadthe.worker import enqueue_job

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SWEEP_BATCH = 100

SUBSCRIPTION_EVENTS = frozenset({
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
    "customer.subscription.paused", "customer.subscription.resumed", "customer.subscription.trial_will_end",
    "checkout.session.completed", "checkout.session.async_payment_succeeded"})
PAID_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded"})
FAILED_EVENTS = frozenset({"invoice.payment_failed"})
CARD_EVENTS = frozenset({"customer.source.expiring"})

# Stripe's subscription status → ours (None: leave ours as it is)
STATUS = {
    "trialing": BillingStatus.TRIALING, "active": BillingStatus.ACTIVE, "past_due": BillingStatus.PAST_DUE,
    "unpaid": BillingStatus.PAST_DUE, "canceled": BillingStatus.CANCELLED, "incomplete_expired": BillingStatus.CANCELLED,
    "incomplete": None, "paused": None,
}
ENDED = ("canceled", "incomplete_expired")


# --- the ledger (the webhook's side) -------------------------------------------------------------------

def check_shape(event: dict) -> None:
    """A signed payload that is not an event we can record is refused (ValueError) like a bad signature."""
    if not (isinstance(event.get("id"), str) and event["id"] and isinstance(event.get("type"), str)
            and isinstance((event.get("data") or {}).get("object"), dict)):
        raise ValueError("not a Stripe event")


def object_of(event: dict) -> str:
    """The id of the object the worker fetches afresh: a completed Checkout's subscription, an expiring card's
    customer, otherwise the event's own object."""
    obj = event["data"]["object"]
    if event["type"].startswith("checkout.session."):
        value = obj.get("subscription")
    elif event["type"] in CARD_EVENTS:
        value = obj.get("customer")
    else:
        value = obj.get("id")
    return value if isinstance(value, str) else ""


def _when(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), timezone.utc) if isinstance(timestamp, int) and timestamp > 0 else None


def record(event: dict) -> int | None:
    """Put the event in the ledger and queue its handling; None when it was recorded before (nothing changes)."""
    stmt = upsert(BillingEvent).values(
        provider=BillingProviderKind.STRIPE, event_id=event["id"][:255], type=event["type"][:100],
        object_id=object_of(event)[:255], created=_when(event.get("created")), received_at=utcnow(),
        status=BillingEventStatus.PENDING, attempts=0, error="",
    ).on_conflict_do_nothing(index_elements=["provider", "event_id"]).returning(BillingEvent.id)
    ledger_id = db.session.execute(stmt).scalar()
    if ledger_id is not None:
        enqueue_job("billing.event", {"event_id": ledger_id})
    return ledger_id


# --- the worker ---------------------------------------------------------------------------------------

def handle_event_job(job) -> None:
    process((job.payload or {}).get("event_id"))


def sweep(job) -> None:
    """Events still pending (a job lost) or failed (Stripe unreachable, a bug fixed since), oldest first."""
    ids = db.session.scalars(sa.select(BillingEvent.id).where(
        BillingEvent.status.in_((BillingEventStatus.PENDING, BillingEventStatus.FAILED)),
        BillingEvent.attempts < MAX_ATTEMPTS).order_by(BillingEvent.received_at).limit(SWEEP_BATCH)).all()
    for ledger_id in ids:
        process(ledger_id)


def process(ledger_id) -> str | None:
    """Handle one ledger event in a transaction of its own; its status afterwards (None: nothing to do)."""
    event = db.session.scalar(sa.select(BillingEvent).where(BillingEvent.id == ledger_id).with_for_update())
    if event is None or event.status == BillingEventStatus.DONE or event.attempts >= MAX_ATTEMPTS:
        db.session.rollback()
        return None
    try:
        handle(event.type, event.object_id)
    except Exception as exc:  # noqa: BLE001 - kept with the event and tried again by the sweep
        db.session.rollback()
        log.warning("billing: event %s (%s) failed: %s", ledger_id, getattr(event, "type", "?"), exc)
        event = db.session.get(BillingEvent, ledger_id)
        event.status, event.error = BillingEventStatus.FAILED, (str(exc) or type(exc).__name__)[:500]
    else:
        event.status, event.error = BillingEventStatus.DONE, ""
    event.attempts += 1
    event.processed_at = utcnow()
    status = event.status
    db.session.commit()
    return status


def handle(kind: str, object_id: str) -> None:
    if not object_id:
        return
    if kind in SUBSCRIPTION_EVENTS:
        handler = sync_subscription
    elif kind in PAID_EVENTS:
        handler = invoice_paid
    elif kind in FAILED_EVENTS:
        handler = payment_failed
    elif kind in CARD_EVENTS:
        handler = card_expiring
    else:
        return  # an event we do not use: recorded, nothing changed
    with calls():
        handler(client(), object_id)


# --- finding the company ------------------------------------------------------------------------------

def _org_of(customer_id: str, metadata: dict | None) -> int | None:
    """The company of a Stripe customer: by the id we stored, else the org id we put in the metadata."""
    org_id = db.session.scalar(unscoped(
        sa.select(BillingAccount.org_id).where(BillingAccount.stripe_customer_id == customer_id),
        reason="the worker, finding the company of a Stripe customer")) if customer_id else None
    if org_id is not None:
        return org_id
    claimed = str((metadata or {}).get("org_id") or "")
    if not claimed.isascii() or not claimed.isdigit():
        return None
    return db.session.scalar(unscoped(sa.select(Organization.id).where(Organization.id == int(claimed)),
                                      reason="the worker, the company named in a Stripe object's metadata"))


def _locked_account(org_id: int, customer_id: str) -> BillingAccount:
    account = accounts.lock_account(org_id)
    if customer_id and not account.stripe_customer_id:
        account.stripe_customer_id = customer_id
    return account


# --- subscriptions ------------------------------------------------------------------------------------

def sync_subscription(stripe_client, subscription_id: str) -> None:
    subscription = data(stripe_client.v1.subscriptions.retrieve(subscription_id))
    org_id = _org_of(subscription.get("customer") or "", subscription.get("metadata"))
    if org_id is None:
        return
    with tenant(org_id):
        account = _locked_account(org_id, subscription.get("customer") or "")
        apply_subscription(stripe_client, account, subscription)


def _item(subscription: dict) -> dict:
    items = (subscription.get("items") or {}).get("data") or [{}]
    return items[0]


def _price_id(item: dict) -> str:
    for key in ("price", "plan"):
        value = item.get(key)
        if isinstance(value, dict) and value.get("id"):
            return value["id"]
    return ""


def _version_of(price_id: str) -> tuple[PlanVersion | None, str]:
    if not price_id:
        return None, ""
    version = db.session.scalar(sa.select(PlanVersion).where(
        sa.or_(PlanVersion.stripe_price_month == price_id, PlanVersion.stripe_price_year == price_id)))
    if version is None:
        return None, ""
    return version, BillingInterval.YEAR if version.stripe_price_year == price_id else BillingInterval.MONTH


def _still_unpaid(stripe_client, subscription: dict) -> bool:
    """Stripe calls the subscription active, but its latest invoice is open: it stays past due with us."""
    latest = subscription.get("latest_invoice")
    latest = latest.get("id") if isinstance(latest, dict) else latest
    if not latest:
        return False
    return data(stripe_client.v1.invoices.retrieve(latest)).get("status") == "open"


def apply_subscription(stripe_client, account: BillingAccount, subscription: dict) -> None:
    """Bring the account in line with Stripe's current subscription."""
    status = subscription.get("status") or ""
    if account.stripe_subscription_id and account.stripe_subscription_id != subscription["id"] and status in ENDED:
        return  # an earlier subscription ending does not end the one the company has now
    account.provider = BillingProviderKind.STRIPE
    account.stripe_subscription_id = subscription["id"]
    _apply_item(account, subscription)
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status == "trialing" and _when(subscription.get("trial_end")):
        account.trial_ends_at = _when(subscription.get("trial_end"))
    account.synced_at = utcnow()
    ours = STATUS.get(status)
    if ours == BillingStatus.ACTIVE and account.status == BillingStatus.PAST_DUE and _still_unpaid(stripe_client, subscription):
        ours = None
    if ours is not None:
        accounts.set_status(account, ours, reason=f"stripe: subscription {status}")
    db.session.flush()


def _apply_item(account: BillingAccount, subscription: dict) -> None:
    """Seats, plan version and period from the subscription's item (newer API versions keep the period there)."""
    item = _item(subscription)
    if isinstance(item.get("quantity"), int) and item["quantity"] > 0:
        account.seats = item["quantity"]
    version, interval = _version_of(_price_id(item))
    if version is not None:
        account.plan_version_id, account.interval = version.id, interval
    start = _when(item.get("current_period_start") or subscription.get("current_period_start"))
    end = _when(item.get("current_period_end") or subscription.get("current_period_end"))
    account.current_period_start = start or account.current_period_start
    account.current_period_end = end or account.current_period_end


# --- invoices -----------------------------------------------------------------------------------------

def _subscription_of(invoice: dict) -> str:
    value = invoice.get("subscription")
    if not value:  # API versions from 2025 on: under parent.subscription_details
        value = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    value = value.get("id") if isinstance(value, dict) else value
    return value or ""


def _lines(invoice: dict) -> list[dict]:
    lines = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        quantity = line.get("quantity") or 1
        amount = int(line.get("amount") or 0)
        lines.append({"description": (line.get("description") or "")[:200], "quantity": quantity,
                      "unit_cents": amount // quantity if quantity else amount, "amount_cents": amount})
    return lines


def _period(invoice: dict) -> tuple[datetime | None, datetime | None]:
    first = ((invoice.get("lines") or {}).get("data") or [{}])[0].get("period") or {}
    return (_when(first.get("start")) or _when(invoice.get("period_start")),
            _when(first.get("end")) or _when(invoice.get("period_end")))


def _amounts(invoice: dict) -> dict:
    total = int(invoice.get("total") or 0)
    net = invoice.get("total_excluding_tax")
    net = int(net) if isinstance(net, int) else int(invoice.get("subtotal") or 0)
    tax = invoice.get("tax")
    return {"net_cents": net, "tax_cents": int(tax) if isinstance(tax, int) else total - net, "total_cents": total,
            "currency": (invoice.get("currency") or "eur").upper()}


def _issue_once(account: BillingAccount, invoice: dict) -> None:
    known = db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(Invoice).where(
        Invoice.provider_invoice_id == invoice["id"]), reason="one invoice of ours per Stripe invoice"))
    if known or int(invoice.get("total") or 0) <= 0:
        return  # ours already, or nothing charged (a trial's, or one settled by credit)
    start, end = _period(invoice)
    invoices.issue_invoice(account, lines=_lines(invoice), amounts=_amounts(invoice), provider_invoice_id=invoice["id"],
                           paid=True, period_start=start, period_end=end)


def invoice_paid(stripe_client, invoice_id: str) -> None:
    invoice = data(stripe_client.v1.invoices.retrieve(invoice_id))
    if invoice.get("status") != "paid":
        return  # an older event: the invoice is not paid (any more); its own event says what happened
    subscription_id = _subscription_of(invoice)
    subscription = data(stripe_client.v1.subscriptions.retrieve(subscription_id)) if subscription_id else {}
    org_id = _org_of(invoice.get("customer") or "", subscription.get("metadata"))
    if org_id is None:
        return
    with tenant(org_id):
        account = _locked_account(org_id, invoice.get("customer") or "")
        account.provider = BillingProviderKind.STRIPE
        _issue_once(account, invoice)
        if subscription:
            apply_subscription(stripe_client, account, subscription)


def payment_failed(stripe_client, invoice_id: str) -> None:
    invoice = data(stripe_client.v1.invoices.retrieve(invoice_id))
    if invoice.get("status") != "open":
        return  # paid or voided since: nothing is overdue
    org_id = _org_of(invoice.get("customer") or "", None)
    if org_id is None:
        return
    with tenant(org_id):
        account = _locked_account(org_id, invoice.get("customer") or "")
        if account.status == BillingStatus.CANCELLED:
            return
        accounts.set_status(account, BillingStatus.PAST_DUE, reason="stripe: payment failed")
        dunning.notify(account, "payment_failed", key=invoice["id"])


# --- cards --------------------------------------------------------------------------------------------

def _default_card(stripe_client, customer: dict) -> dict:
    card_id = (customer.get("invoice_settings") or {}).get("default_payment_method") or customer.get("default_source")
    card_id = card_id.get("id") if isinstance(card_id, dict) else card_id
    if not card_id:
        return {}
    if card_id.startswith("pm_"):
        method = data(stripe_client.v1.payment_methods.retrieve(card_id))
        return {"id": method["id"], **(method.get("card") or {})}
    return data(stripe_client.v1.customers.payment_sources.retrieve(customer["id"], card_id))


def card_expiring(stripe_client, customer_id: str, now: datetime | None = None) -> None:
    """Mail the billing contacts when the customer's card in use expires this month or next (once per card and
    expiry): a card replaced since the event was sent is not mailed about."""
    customer = data(stripe_client.v1.customers.retrieve(customer_id))
    card = _default_card(stripe_client, customer)
    month, year = card.get("exp_month"), card.get("exp_year")
    if not (isinstance(month, int) and isinstance(year, int)):
        return
    now = now or utcnow()
    soon = (now.year * 12 + now.month) + 1
    if year * 12 + month > soon:
        return
    org_id = _org_of(customer_id, customer.get("metadata"))
    if org_id is None:
        return
    with tenant(org_id):
        account = _locked_account(org_id, customer_id)
        dunning.notify(account, "card_expiring", key=f"{card.get('id', '')}:{year}-{month:02d}")
