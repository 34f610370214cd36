"""Stripe billing against a local Stripe-compatible server (localstripe, tests/stripe_server.py) with webhooks
signed by the test secret: subscribing, more seats, a failed payment (past due, the mail, read-only after
the grace period, paid again), the same event twice, events out of order, bad signatures, unknown events.

localstripe has no Checkout and no Customer Portal: the admin's "subscribe" request runs through the worker
(customer and per-seat price made on Stripe's side, the Checkout call itself then fails as "unreachable"),
and the test does on Stripe's side what Checkout would (a card, a subscription with the seats) before
delivering Checkout's signed ``checkout.session.completed``."""
from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from stripe import WebhookSignature

from leadthe.billing import accounts, actions, events, plans
from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.billing import BillingAccount, BillingEvent, BillingNotice, BillingRequest, Invoice, PlanVersion
from leadthe.models.enums import BillingEventStatus, BillingProviderKind, BillingStatus
from leadthe.tenancy import scoped, tenant, unscoped
from leadthe.worker import run_once, schedule_due_jobs
from tests.conftest import free_port, make_org, make_user, outbox, post_form
from tests.helpers import signed_in
from tests import stripe_server as localstripe
from tests.stripe_server import signed_event, stripe_client

GOOD_CARD = "4242424242424242"
FAILING_CARD = "4000000000000341"  # attaches, then every charge is declined
HOOK = "/billing/webhooks/stripe"

stripe_server, stripe_app = localstripe.stripe_server, localstripe.stripe_app  # the fixtures


def _account(app, org_id) -> BillingAccount:
    with app.app_context(), tenant(org_id):
        account = db.session.scalar(scoped(BillingAccount, org_id))
        db.session.expunge(account)
        return account


def _count(app, stmt) -> int:
    with app.app_context():
        return db.session.scalar(unscoped(stmt, reason="test")) or 0


def _use_card(sc, customer_id: str, number: str) -> str:
    method = sc.v1.payment_methods.create(params={"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": utcnow().year + 3, "cvc": "123"}})
    sc.v1.payment_methods.attach(method.id, params={"customer": customer_id})
    sc.v1.customers.update(customer_id, params={"invoice_settings": {"default_payment_method": method.id}})
    return method.id


def _deliver(client, event_type: str, obj: dict, **kwargs):
    body, headers = signed_event(event_type, obj, **kwargs)
    return client.post(HOOK, data=body, headers=headers)


def _past_due_for(app, org_id, days: int) -> None:
    with app.app_context():
        row = db.session.scalar(unscoped(sa.select(BillingAccount).where(BillingAccount.org_id == org_id),
                                         reason="test: the payment failed longer ago"))
        row.past_due_since = utcnow() - timedelta(days=days)
        db.session.commit()


@pytest.fixture
def company(stripe_app):
    org = make_org(stripe_app, "Stripe GmbH")
    admin = make_user(stripe_app, org, email="admin@stripe-gmbh.example", role="admin", name="Ada Admin")
    return org, admin


def _request(app, org_id, admin, kind: str, params: dict) -> BillingRequest:
    with app.app_context(), tenant(org_id):
        plans.ensure_default_plans()
        account = accounts.account_for(org_id)
        req = actions.submit(account, admin, kind, params)
        db.session.commit()
        req_id = req.id
    with app.app_context():
        run_once()
    with app.app_context(), tenant(org_id):
        req = db.session.scalar(scoped(BillingRequest, org_id).where(BillingRequest.id == req_id))
        db.session.expunge(req)
        return req


def _first_version(app) -> int:
    with app.app_context():
        plans.ensure_default_plans()
        version_id = db.session.scalars(sa.select(PlanVersion.id).order_by(PlanVersion.id)).first()
        db.session.commit()
        return version_id


def _subscribe(app, client, stripe_server, org, admin, seats: int = 3, card: str = GOOD_CARD):
    """The admin subscribes (worker: customer, price; Checkout itself is missing in localstripe), then what
    Checkout does on Stripe's side, then Checkout's signed event. Returns (stripe client, subscription)."""
    version_id = _first_version(app)
    req = _request(app, org.id, admin, "subscribe", {"plan_version_id": version_id, "interval": "month", "seats": seats})
    assert req.status == "failed" and req.error == "unreachable"  # localstripe: no Checkout Sessions
    account = _account(app, org.id)
    assert account.provider == BillingProviderKind.STRIPE and account.stripe_customer_id.startswith("cus_")
    with app.app_context():
        price = db.session.get(PlanVersion, version_id).stripe_price_month
    sc = stripe_client(stripe_server)
    customer = sc.v1.customers.retrieve(account.stripe_customer_id)
    assert customer.name == "Stripe GmbH" and customer.email == "admin@stripe-gmbh.example"
    assert customer.metadata["org_id"] == str(org.id)
    _use_card(sc, account.stripe_customer_id, card)
    vat = [r.id for r in sc.v1.tax_rates.list().data if r.metadata.to_dict().get("leadthe_vat_bp") == "1900"]
    assert len(vat) == 1  # the seller's 19 % (a company at home), made by the provider for Checkout
    sub = sc.v1.subscriptions.create(params={"customer": account.stripe_customer_id, "metadata": {"org_id": str(org.id)},
                                             "items": [{"plan": price, "quantity": seats}], "default_tax_rates": vat})
    response = _deliver(client, "checkout.session.completed", {
        "id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "subscription": sub.id,
        "customer": account.stripe_customer_id, "client_reference_id": str(org.id)})
    assert response.status_code == 200
    with app.app_context():
        run_once()
    return sc, sub


def test_subscribe_more_seats_payment_fails_then_succeeds(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, sub = _subscribe(app, client, stripe_server, org, admin, seats=3)
    account = _account(app, org.id)
    assert account.status == BillingStatus.ACTIVE and account.seats == 3
    assert account.stripe_subscription_id == sub.id and account.plan_version_id is not None
    assert account.current_period_end is not None and account.synced_at is not None

    # the first invoice, paid at once
    first_invoice = sc.v1.subscriptions.retrieve(sub.id).latest_invoice
    assert _deliver(client, "invoice.paid", {"id": first_invoice, "object": "invoice"}).status_code == 200
    with app.app_context():
        run_once()
    with app.app_context():
        ours = db.session.scalar(unscoped(sa.select(Invoice).where(Invoice.provider_invoice_id == first_invoice), reason="test"))
        theirs = sc.v1.invoices.retrieve(first_invoice)
        assert ours.status == "paid" and ours.total_cents == theirs.total > 0 and ours.net_cents == theirs.subtotal
        assert ours.tax_rate_bp == 1900 and ours.tax_cents == round(ours.net_cents * 0.19) > 0
        assert ours.total_cents == ours.net_cents + ours.tax_cents
        assert ours.lines[0]["quantity"] == 3 and ours.org_id == org.id

    # more seats: Stripe's quantity and ours
    req = _request(app, org.id, admin, "seats", {"seats": 5})
    assert req.status == "done"
    assert sc.v1.subscriptions.retrieve(sub.id)["items"].data[0].quantity == 5
    assert _account(app, org.id).seats == 5

    # the card is declined: the prorated invoice stays open → past due, the mail, read-only after the grace period
    _use_card(sc, account.stripe_customer_id, FAILING_CARD)
    invoice = sc.v1.invoices.create(params={"customer": account.stripe_customer_id, "subscription": sub.id})
    assert sc.v1.invoices.pay(invoice.id).status == "open"
    assert _deliver(client, "invoice.payment_failed", {"id": invoice.id, "object": "invoice"}).status_code == 200
    with app.app_context():
        run_once()
    account = _account(app, org.id)
    assert account.status == BillingStatus.PAST_DUE
    assert _count(app, sa.select(sa.func.count()).select_from(BillingNotice).where(
        BillingNotice.org_id == org.id, BillingNotice.kind == "payment_failed", BillingNotice.key == invoice.id)) == 1
    with app.app_context():
        assert not accounts.is_read_only(account, utcnow() + timedelta(days=13))
        assert accounts.is_read_only(account, utcnow() + timedelta(days=15))
    mails = outbox(app, kind="billing_payment_failed")
    assert [m.to_addr for m in mails] == [admin.email]  # no billing contact named: the admins
    assert "admins' changes pause on" in mails[0].body_text  # with the day the grace period ends

    # 15 days on (the payment failed 15 days ago): an admin's change is refused with the read-only page
    _past_due_for(app, org.id, days=15)
    signed = signed_in(app, admin)
    refused = post_form(signed, "/admin/teams", {"name": "Finance"})
    assert refused.status_code == 403 and "Changes are paused" in refused.get_data(as_text=True)
    assert signed.get("/admin/billing").status_code == 200  # the way out stays open

    # Stripe (localstripe) still calls the subscription active: with the invoice open it stays past due
    assert _deliver(client, "customer.subscription.updated", {"id": sub.id, "object": "subscription"}).status_code == 200
    with app.app_context():
        run_once()
    assert _account(app, org.id).status == BillingStatus.PAST_DUE

    # a new card; the invoice is paid → active, one invoice of ours more
    _use_card(sc, account.stripe_customer_id, GOOD_CARD)
    assert sc.v1.invoices.pay(invoice.id).status == "paid"
    assert _deliver(client, "invoice.paid", {"id": invoice.id, "object": "invoice"}).status_code == 200
    with app.app_context():
        run_once()
    account = _account(app, org.id)
    assert account.status == BillingStatus.ACTIVE and account.past_due_since is None
    with app.app_context():
        assert not accounts.is_read_only(account, utcnow() + timedelta(days=15))
    assert post_form(signed, "/admin/teams", {"name": "Finance"}).status_code == 303  # paying lifted it at once
    assert _count(app, sa.select(sa.func.count()).select_from(Invoice).where(Invoice.org_id == org.id)) == 2


def test_the_same_event_twice_changes_nothing(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, sub = _subscribe(app, client, stripe_server, org, admin, seats=2)
    paid = sc.v1.subscriptions.retrieve(sub.id).latest_invoice
    body, headers = signed_event("invoice.paid", {"id": paid, "object": "invoice"}, event_id="evt_twice")
    first, second = client.post(HOOK, data=body, headers=headers), client.post(HOOK, data=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.get_json()["duplicate"] is True
    with app.app_context():
        run_once()
    assert _count(app, sa.select(sa.func.count()).select_from(BillingEvent).where(BillingEvent.event_id == "evt_twice")) == 1
    assert _count(app, sa.select(sa.func.count()).select_from(Invoice).where(Invoice.provider_invoice_id == paid)) == 1
    # the same invoice under another event id (Stripe's invoice.payment_succeeded beside invoice.paid): still one
    assert _deliver(client, "invoice.payment_succeeded", {"id": paid, "object": "invoice"}).status_code == 200
    with app.app_context():
        run_once()
    assert _count(app, sa.select(sa.func.count()).select_from(Invoice).where(Invoice.provider_invoice_id == paid)) == 1
    assert _count(app, sa.select(sa.func.count()).select_from(BillingEvent).where(
        BillingEvent.status != BillingEventStatus.DONE)) == 0


def test_events_out_of_order_leave_the_current_state(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, sub = _subscribe(app, client, stripe_server, org, admin, seats=2)
    item = sc.v1.subscriptions.retrieve(sub.id)["items"].data[0].id
    sc.v1.subscriptions.update(sub.id, params={"items": [{"id": item, "quantity": 4}]})
    sc.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    now = int(time.time())
    # the newer event arrives first, then the older one (with the older payload: quantity 2, not cancelling)
    _deliver(client, "customer.subscription.updated", {"id": sub.id, "object": "subscription", "quantity": 4,
                                                       "cancel_at_period_end": True}, created=now)
    _deliver(client, "customer.subscription.updated", {"id": sub.id, "object": "subscription", "quantity": 2,
                                                       "cancel_at_period_end": False}, created=now - 60)
    # and an invoice.paid before the subscription's "created"
    paid = sc.v1.subscriptions.retrieve(sub.id).latest_invoice
    _deliver(client, "invoice.paid", {"id": paid, "object": "invoice"})
    _deliver(client, "customer.subscription.created", {"id": sub.id, "object": "subscription", "quantity": 2},
             created=now - 120)
    with app.app_context():
        run_once()
    account = _account(app, org.id)
    assert account.status == BillingStatus.ACTIVE and account.seats == 4 and account.cancel_at_period_end is True
    assert _count(app, sa.select(sa.func.count()).select_from(Invoice).where(Invoice.org_id == org.id)) == 1


def test_a_bad_signature_is_400_and_changes_nothing(stripe_app, client, company):
    org, _admin = company
    obj = {"id": "in_forged", "object": "invoice"}
    body, headers = signed_event("invoice.payment_failed", obj, secret="whsec_someone_else")
    assert client.post(HOOK, data=body, headers=headers).status_code == 400
    body, headers = signed_event("invoice.payment_failed", obj)
    assert client.post(HOOK, data=body + b" ", headers=headers).status_code == 400  # the body changed after signing
    assert client.post(HOOK, data=body).status_code == 400  # no signature
    stale, headers = signed_event("invoice.payment_failed", obj, timestamp=int(time.time()) - 3600)
    assert client.post(HOOK, data=stale, headers=headers).status_code == 400  # replayed an hour later
    garbage = b"[1, 2]"  # signed, valid JSON, but not an event
    headers = {"Stripe-Signature": WebhookSignature.generate_signature_header(garbage.decode(), "whsec_test_leadthe")}
    assert client.post(HOOK, data=garbage, headers=headers).status_code == 400
    assert _count(stripe_app, sa.select(sa.func.count()).select_from(BillingEvent)) == 0
    with stripe_app.app_context():
        assert db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(BillingAccount), reason="test")) == 0


def test_an_unknown_event_is_accepted_and_ignored(stripe_app, client, company):
    org, _admin = company
    response = _deliver(client, "customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}, event_id="evt_unknown")
    assert response.status_code == 200 and response.get_json() == {"received": True, "duplicate": False}
    with stripe_app.app_context():
        run_once()
        event = db.session.scalar(sa.select(BillingEvent).where(BillingEvent.event_id == "evt_unknown"))
        assert event.status == BillingEventStatus.DONE and event.processed_at is not None
        assert db.session.scalar(unscoped(sa.select(sa.func.count()).select_from(BillingAccount), reason="test")) == 0


def test_without_a_webhook_secret_the_route_is_not_there(app, client):
    body, headers = signed_event("invoice.paid", {"id": "in_1", "object": "invoice"})
    assert client.post(HOOK, data=body, headers=headers).status_code == 404


def test_an_unreachable_stripe_keeps_the_event_for_the_sweep(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, sub = _subscribe(app, client, stripe_server, org, admin, seats=2)
    item = sc.v1.subscriptions.retrieve(sub.id)["items"].data[0].id
    sc.v1.subscriptions.update(sub.id, params={"items": [{"id": item, "quantity": 6}]})
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for event_id in ("evt_later", "evt_given_up"):
        _deliver(client, "customer.subscription.updated", {"id": sub.id, "object": "subscription"}, event_id=event_id)
    with app.app_context():
        run_once()
        rows = {e.event_id: e for e in db.session.scalars(sa.select(BillingEvent).where(
            BillingEvent.event_id.in_(("evt_later", "evt_given_up"))))}
        assert {(e.status, e.attempts) for e in rows.values()} == {(BillingEventStatus.FAILED, 1)}
        assert "unreachable" in rows["evt_later"].error
        rows["evt_given_up"].attempts = events.MAX_ATTEMPTS
        db.session.commit()
    assert _account(app, org.id).seats == 2
    app.config["STRIPE_API_BASE"] = stripe_server  # Stripe is back: the sweep handles what is left
    with app.app_context():
        schedule_due_jobs(["billing.events"])
        run_once()
        rows = {e.event_id: (e.status, e.attempts) for e in db.session.scalars(sa.select(BillingEvent).where(
            BillingEvent.event_id.in_(("evt_later", "evt_given_up"))))}
    assert rows == {"evt_later": (BillingEventStatus.DONE, 2),
                    "evt_given_up": (BillingEventStatus.FAILED, events.MAX_ATTEMPTS)}
    assert _account(app, org.id).seats == 6


def test_a_stripe_that_does_not_answer_is_given_up_after_the_timeout(stripe_app, company):
    app, (org, admin) = stripe_app, company
    version_id = _first_version(app)
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app.config.update(STRIPE_API_BASE=f"http://127.0.0.1:{silent.getsockname()[1]}", BILLING_HTTP_TIMEOUT=0.2)
        req = _request(app, org.id, admin, "subscribe", {"plan_version_id": version_id, "interval": "month", "seats": 1})
    assert req.status == "failed" and req.error == "unreachable"
    assert _account(app, org.id).stripe_customer_id == ""


def test_an_unsigned_post_is_400_for_every_role(stripe_app, companies):
    a = companies[0]
    body, _headers = signed_event("invoice.paid", {"id": "in_1", "object": "invoice"})
    clients = {"anonymous": stripe_app.test_client()}
    clients.update({role: signed_in(stripe_app, getattr(a, role)) for role in ("learner", "manager", "admin")})
    for role, client in clients.items():
        assert client.post(HOOK, data=body, headers={"Content-Type": "application/json"}).status_code == 400, role
    assert _count(stripe_app, sa.select(sa.func.count()).select_from(BillingEvent)) == 0


def test_cancel_and_reactivate_go_to_stripe(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, sub = _subscribe(app, client, stripe_server, org, admin, seats=2)
    assert _request(app, org.id, admin, "cancel", {}).status == "done"
    assert sc.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    assert _account(app, org.id).cancel_at_period_end is True
    assert _request(app, org.id, admin, "reactivate", {}).status == "done"
    assert sc.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    account = _account(app, org.id)
    assert account.cancel_at_period_end is False and account.status == BillingStatus.ACTIVE
    # the Customer Portal: localstripe has none, so the call fails and the admin is told to try again
    assert _request(app, org.id, admin, "portal", {}).error == "unreachable"


def test_stripe_refusing_a_change_is_told_and_changes_nothing(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    _subscribe(app, client, stripe_server, org, admin, seats=2)
    with app.app_context(), tenant(org.id):
        accounts.account_for(org.id).stripe_subscription_id = "sub_not_on_stripe"
        db.session.commit()
    req = _request(app, org.id, admin, "seats", {"seats": 9})
    assert req.status == "failed" and req.error == "refused"
    assert _account(app, org.id).seats == 2


def test_card_expiring_mails_once_per_card(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, _sub = _subscribe(app, client, stripe_server, org, admin, seats=1)
    customer = _account(app, org.id).stripe_customer_id
    now = utcnow()
    method = sc.v1.payment_methods.create(params={"type": "card", "card": {
        "number": GOOD_CARD, "exp_month": now.month, "exp_year": now.year, "cvc": "123"}})
    sc.v1.payment_methods.attach(method.id, params={"customer": customer})
    sc.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": method.id}})
    for _ in range(2):
        _deliver(client, "customer.source.expiring", {"id": "card_1", "object": "card", "customer": customer})
    with app.app_context():
        run_once()
    assert _count(app, sa.select(sa.func.count()).select_from(BillingNotice).where(
        BillingNotice.org_id == org.id, BillingNotice.kind == "card_expiring")) == 1


def test_a_subscription_ended_on_stripe_cancels_but_an_older_one_ending_does_not(stripe_app, client, stripe_server, company):
    app, (org, admin) = stripe_app, company
    sc, old = _subscribe(app, client, stripe_server, org, admin, seats=2)
    price = sc.v1.subscriptions.retrieve(old.id)["items"].data[0].plan.id
    customer = _account(app, org.id).stripe_customer_id
    new = sc.v1.subscriptions.create(params={"customer": customer, "metadata": {"org_id": str(org.id)},
                                             "items": [{"plan": price, "quantity": 7}]})
    _deliver(client, "customer.subscription.created", {"id": new.id, "object": "subscription"})
    sc.v1.subscriptions.cancel(old.id)
    _deliver(client, "customer.subscription.deleted", {"id": old.id, "object": "subscription"})
    with app.app_context():
        run_once()
    account = _account(app, org.id)
    assert account.status == BillingStatus.ACTIVE and account.stripe_subscription_id == new.id and account.seats == 7
    sc.v1.subscriptions.cancel(new.id)
    _deliver(client, "customer.subscription.deleted", {"id": new.id, "object": "subscription"})
    with app.app_context():
        run_once()
    account = _account(app, org.id)
    assert account.status == BillingStatus.CANCELLED and account.cancelled_at is not None
    with app.app_context():
        assert accounts.is_read_only(account, account.current_period_end + timedelta(seconds=1))
