"""Stripe through its official SDK: Checkout to subscribe, the Customer Portal for the card and cancellation,
seat changes on the subscription (Stripe prorates). Card data never reaches us (PCI SAQ A). Only the worker
calls it (``slow``); timeouts from ``BILLING_HTTP_TIMEOUT``; the API base from ``STRIPE_API_BASE`` (tests: a
local localstripe server), else api.stripe.com: no other host is ever called.

Prices: one Stripe product per plan and one per-seat recurring price per plan version and interval, made
when first needed with a fixed id (``leadthe_<plan>_v<version>_<interval>``) through the plans endpoint, whose
objects Stripe accepts wherever a price id goes (Checkout line items, subscription items); a retried job
finds the one it made before. The ids are kept on the ``PlanVersion``.

Failures become ``ProviderError``: "unreachable" (network, timeouts, Stripe's own errors: try again later)
or "refused" (a card or request Stripe turned down)."""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
import stripe
from flask import current_app
from werkzeug.routing import BuildError

from leadthe.billing import members
from leadthe.billing.provider import ProviderError
from leadthe.billing.tax import tax_for
from leadthe.extensions import db
from leadthe.models import Organization
from leadthe.models.billing import BillingAccount, Plan, PlanVersion
from leadthe.models.enums import BillingInterval, BillingProviderKind, BillingStatus
from leadthe.net import absolute_url
from leadthe.tenancy import unscoped

RETRIES = 1  # the SDK retries a failed connection once (with an idempotency key); the job answers after that
UNREACHABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


def client() -> stripe.StripeClient:
    """A client for one call, from the configuration: the key, the API base, the timeout."""
    cfg = current_app.config
    key = cfg.get("STRIPE_SECRET_KEY") or ""
    if not key:
        raise ProviderError("unreachable", "no Stripe key is configured")
    return stripe.StripeClient(
        key, base_addresses={"api": cfg.get("STRIPE_API_BASE") or stripe.DEFAULT_API_BASE},
        http_client=stripe.RequestsClient(timeout=float(cfg["BILLING_HTTP_TIMEOUT"])), max_network_retries=RETRIES)


@contextmanager
def calls():
    """Stripe's errors as the provider's: the admin's page puts the code in words."""
    try:
        yield
    except UNREACHABLE as exc:
        raise ProviderError("unreachable", str(exc)[:200]) from exc
    except stripe.StripeError as exc:
        raise ProviderError("refused", str(exc)[:200]) from exc


def data(obj) -> dict:
    """A Stripe object as plain data (the SDK's objects are not dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj or {})


def _missing(exc: stripe.StripeError) -> bool:
    return isinstance(exc, stripe.InvalidRequestError) and (exc.http_status == 404 or exc.code == "resource_missing")


def _company_name(account: BillingAccount) -> str:
    return account.legal_name or db.session.scalar(unscoped(
        sa.select(Organization.name).where(Organization.id == account.org_id),
        reason="the company's name for its payment account")) or ""


def ensure_customer(stripe_client: stripe.StripeClient, account: BillingAccount) -> str:
    """The company's Stripe customer (made once; its id kept on the account)."""
    if account.stripe_customer_id:
        return account.stripe_customer_id
    params = {"name": _company_name(account), "metadata": {"org_id": str(account.org_id)}}
    people = members.contacts(account.org_id)
    if people:
        params["email"] = people[0].email
    customer = stripe_client.v1.customers.create(
        params=params, options={"idempotency_key": f"leadthe-customer-{account.org_id}"})
    account.stripe_customer_id = customer.id
    db.session.flush()
    return customer.id


def _retrieve_or_create(service, object_id: str, params: dict) -> str:
    try:
        return service.retrieve(object_id).id
    except stripe.InvalidRequestError as exc:
        if not _missing(exc):
            raise
    return service.create(params={"id": object_id, **params}).id


def ensure_price(stripe_client: stripe.StripeClient, version: PlanVersion, interval: str) -> str:
    """The per-seat recurring price of ``version`` for ``interval`` (made once; its id kept on the version)."""
    field = "stripe_price_year" if interval == BillingInterval.YEAR else "stripe_price_month"
    if getattr(version, field):
        return getattr(version, field)
    plan = db.session.get(Plan, version.plan_id)
    product = _retrieve_or_create(stripe_client.v1.products, f"leadthe_{plan.code}",
                                  {"name": plan.name, "metadata": {"plan": plan.code}})
    amount = version.year_cents if interval == BillingInterval.YEAR else version.month_cents
    price = _retrieve_or_create(stripe_client.v1.plans, f"leadthe_{plan.code}_v{version.version}_{interval}", {
        "amount": amount, "currency": version.currency.lower(), "interval": interval, "product": product,
        "metadata": {"plan_version_id": str(version.id)}})
    setattr(version, field, price)
    db.session.flush()
    return price


def ensure_tax_rate(stripe_client: stripe.StripeClient, account: BillingAccount) -> str | None:
    """The VAT rate Stripe adds to the company's invoices (``tax.tax_for``: the seller's rate at home and for
    EU buyers without a valid VAT ID; none for reverse charge or outside the EU), made once per rate."""
    rate_bp = tax_for(account.country, account.vat_id, account.vat_id_valid).rate_bp
    if rate_bp <= 0:
        return None
    for rate in stripe_client.v1.tax_rates.list(params={"limit": 100}).data:
        rate = data(rate)
        if rate.get("active") and (rate.get("metadata") or {}).get("leadthe_vat_bp") == str(rate_bp) \
                and not rate.get("inclusive"):
            return rate["id"]
    return stripe_client.v1.tax_rates.create(params={
        "display_name": "VAT", "inclusive": False, "percentage": rate_bp / 100,
        "metadata": {"leadthe_vat_bp": str(rate_bp)}}).id


def _return_url(result: str) -> str:
    """Where Checkout sends the admin back: from LEADTHE_BASE_URL, never from a request."""
    try:
        return absolute_url("billing_admin.checkout_return", result=result)
    except BuildError:  # the admin pages' return route is not there: the billing page itself
        return billing_page_url() + f"?result={result}"


def billing_page_url() -> str:
    return current_app.config["SERVER_BASE_URL"].rstrip("/") + current_app.blueprints["billing_admin"].url_prefix


def _subscription_item(stripe_client: stripe.StripeClient, account: BillingAccount) -> dict:
    subscription = data(stripe_client.v1.subscriptions.retrieve(account.stripe_subscription_id))
    return subscription["items"]["data"][0]


class StripeProvider:
    kind = BillingProviderKind.STRIPE
    slow = True

    def subscribe(self, account, version, interval, seats, user):
        """A Checkout Session for ``seats`` seats of the version's per-seat price; its URL."""
        with calls():
            stripe_client = client()
            customer = ensure_customer(stripe_client, account)
            price = ensure_price(stripe_client, version, interval)
            tax_rate = ensure_tax_rate(stripe_client, account)
            metadata = {"org_id": str(account.org_id), "plan_version_id": str(version.id)}
            subscription_data = {"metadata": metadata, **({"default_tax_rates": [tax_rate]} if tax_rate else {})}
            session = stripe_client.v1.checkout.sessions.create(params={
                "mode": "subscription", "customer": customer, "client_reference_id": str(account.org_id),
                "line_items": [{"price": price, "quantity": int(seats)}], "metadata": metadata,
                "subscription_data": subscription_data,
                "success_url": _return_url("success"), "cancel_url": _return_url("cancelled")})
        return session.url

    def change_seats(self, account, seats, user):
        """The subscription's quantity; Stripe prorates. Our seats follow from its webhook (and at once here)."""
        if not account.stripe_subscription_id:
            raise ProviderError("no_customer")
        with calls():
            stripe_client = client()
            item = _subscription_item(stripe_client, account)
            stripe_client.v1.subscriptions.update(account.stripe_subscription_id, params={
                "items": [{"id": item["id"], "quantity": int(seats)}]})
        account.seats = int(seats)
        db.session.flush()

    def portal_url(self, account, user):
        if not account.stripe_customer_id:
            raise ProviderError("no_customer")
        with calls():
            session = client().v1.billing_portal.sessions.create(params={
                "customer": account.stripe_customer_id, "return_url": billing_page_url()})
        return session.url

    def cancel(self, account, user):
        self._cancel_at_period_end(account, True)

    def reactivate(self, account, user):
        """Undo the cancellation while the period runs; after it ended, Checkout again for the same plan."""
        if account.stripe_subscription_id and account.status != BillingStatus.CANCELLED:
            self._cancel_at_period_end(account, False)
            return None
        version = db.session.get(PlanVersion, account.plan_version_id) if account.plan_version_id else None
        if version is None:
            raise ProviderError("no_plan")
        return self.subscribe(account, version, account.interval, account.seats, user)

    def _cancel_at_period_end(self, account, flag: bool) -> None:
        if not account.stripe_subscription_id:
            raise ProviderError("no_customer")
        with calls():
            client().v1.subscriptions.update(account.stripe_subscription_id, params={"cancel_at_period_end": flag})
        account.cancel_at_period_end = flag
        db.session.flush()
