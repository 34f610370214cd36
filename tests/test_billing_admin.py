"""``/admin/billing`` (issue 20) with the manual-invoicing provider: subscribing issues the first invoice, more
seats are invoiced prorated, cancelling runs to the period's end and can be undone, billing details with the VAT
ID checked beside the field, billing members, and who may see and change what."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.billing import manual
from leadthe.extensions import db
from leadthe.models import AuditEvent, utcnow
from leadthe.models.billing import BillingAccount, BillingMember, BillingRequest, Invoice
from tests.conftest import csrf_from
from tests.helpers import signed_in


def send(client, url, data, prefix=None):
    """POST ``data`` as the page's form (``prefix``: the section's field prefix) with the page's CSRF token."""
    token = csrf_from(client.get("/admin/billing").get_data(as_text=True))
    name = (lambda field: f"{prefix}-{field}") if prefix else str
    return client.post(url, data={"csrf_token": token, name("csrf_token"): token, **{name(k): v for k, v in data.items()}})


def account_of(app, org_id) -> BillingAccount | None:
    with app.app_context():
        row = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == org_id))
        db.session.expunge_all()
        return row


def invoices_of(app, org_id) -> list[Invoice]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Invoice).where(Invoice.org_id == org_id).order_by(Invoice.id)))
        db.session.expunge_all()
        return rows


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("billing.%"))))


def error_beside(html, field_id):
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def subscribe(client, plan="team", interval="month", seats=5):
    return send(client, "/admin/billing/subscribe", {"plan": plan, "interval": interval, "seats": seats}, prefix="sub")


@pytest.fixture
def admin(app, companies):
    return signed_in(app, companies[0].admin)


@pytest.fixture
def finance(app, companies):
    """A learner of company A with the billing permission."""
    with app.app_context():
        db.session.add(BillingMember(org_id=companies[0].org.id, user_id=companies[0].learner.id, receives_mail=True))
        db.session.commit()
    return signed_in(app, companies[0].learner)


def test_trial_page_offers_the_default_plans_without_writing(app, admin, companies):
    html = admin.get("/admin/billing").get_data(as_text=True)
    assert "Free trial" in html and "Team" in html and "Business" in html
    assert "€8.00" in html  # Team's price per seat and month, formatted by Babel
    assert account_of(app, companies[0].org.id) is None  # a GET writes nothing


def test_subscribe_issues_the_first_invoice_and_activates(app, admin, companies):
    answer = subscribe(admin, seats=5)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/billing")
    account = account_of(app, companies[0].org.id)
    assert account.status == "active" and account.seats == 5 and account.provider == "manual"
    assert account.current_period_end - account.current_period_start >= timedelta(days=28)
    (invoice,) = invoices_of(app, companies[0].org.id)
    assert invoice.status == "open" and invoice.net_cents == 5 * 800
    assert invoice.total_cents == invoice.net_cents + invoice.tax_cents and invoice.tax_cents == 760  # 19 % in Germany
    assert invoice.lines[0]["description"].startswith("Team plan, 5 seats")
    page = admin.get("/admin/billing").get_data(as_text=True)
    assert invoice.number in page and "Active" in page and "Your subscription is active" in page
    assert "billing.subscribed" in actions(app)


def test_credit_is_taken_off_the_first_invoice(app, admin, companies):
    with app.app_context():
        from leadthe.billing import accounts
        accounts.account_for(companies[0].org.id).credit_cents = 1000
        db.session.commit()
    subscribe(admin, seats=5)
    (invoice,) = invoices_of(app, companies[0].org.id)
    assert invoice.net_cents == 3000 and invoice.lines[-1]["unit_cents"] == -1000
    assert account_of(app, companies[0].org.id).credit_cents == 0


def test_too_few_seats_is_refused_beside_the_field(app, admin, companies):
    answer = subscribe(admin, seats=2)  # company A has 3 active people
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "at least" in error_beside(html, "sub-seats")
    assert 'class="error-summary"' in html
    assert invoices_of(app, companies[0].org.id) == []


def test_more_seats_are_invoiced_prorated(app, admin, companies):
    subscribe(admin, seats=5)
    with app.app_context():
        row = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == companies[0].org.id))
        now = utcnow()
        row.current_period_start, row.current_period_end = now - timedelta(days=20), now + timedelta(days=10, hours=1)
        db.session.commit()
    answer = send(admin, "/admin/billing/seats", {"seats": 8}, prefix="seats")
    assert answer.status_code == 303
    assert account_of(app, companies[0].org.id).seats == 8
    added = invoices_of(app, companies[0].org.id)[-1]
    assert added.lines[0]["quantity"] == 3 and added.lines[0]["unit_cents"] == 267  # 800 × 10/30, rounded
    assert added.net_cents == 801
    fewer = send(admin, "/admin/billing/seats", {"seats": 4}, prefix="seats")
    assert fewer.status_code == 303 and account_of(app, companies[0].org.id).seats == 4
    assert len(invoices_of(app, companies[0].org.id)) == 2  # no refund, no new invoice
    below = send(admin, "/admin/billing/seats", {"seats": 1}, prefix="seats")
    assert below.status_code == 422 and account_of(app, companies[0].org.id).seats == 4
    assert actions(app).count("billing.seats_changed") == 2


def test_prorating_rounds_to_the_cent():
    start = utcnow()
    assert manual.prorated_cents(1000, start, start + timedelta(days=30), start + timedelta(days=15)) == 500
    assert manual.prorated_cents(800, start, start + timedelta(days=31), start + timedelta(days=31)) == 0


def test_cancel_asks_first_then_runs_to_the_period_end_and_reactivates(app, admin, companies):
    subscribe(admin, seats=5)
    end = account_of(app, companies[0].org.id).current_period_end
    page = admin.get("/admin/billing/cancel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "nobody loses data" in html
    assert account_of(app, companies[0].org.id).cancel_at_period_end is False
    done = admin.post("/admin/billing/cancel", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 303
    account = account_of(app, companies[0].org.id)
    assert account.cancel_at_period_end is True and account.status == "active" and account.current_period_end == end
    assert "Ends at the end of the period" in admin.get("/admin/billing").get_data(as_text=True)
    again = send(admin, "/admin/billing/reactivate", {})
    assert again.status_code == 303 and account_of(app, companies[0].org.id).cancel_at_period_end is False
    assert len(invoices_of(app, companies[0].org.id)) == 1
    assert {"billing.cancelled", "billing.reactivated"} <= set(actions(app))


def test_reactivate_after_the_end_starts_a_new_period(app, admin, companies):
    subscribe(admin, seats=5)
    with app.app_context():
        row = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == companies[0].org.id))
        row.status, row.current_period_end = "cancelled", utcnow() - timedelta(days=1)
        db.session.commit()
    assert send(admin, "/admin/billing/reactivate", {}).status_code == 303
    account = account_of(app, companies[0].org.id)
    assert account.status == "active" and account.current_period_end > utcnow()
    assert len(invoices_of(app, companies[0].org.id)) == 2


def test_details_with_a_bad_vat_id_keep_what_was_typed(app, admin, companies):
    data = {"legal_name": "Company A GmbH", "address_line1": "Hauptstr. 1", "postcode": "10115", "city": "Berlin",
            "country": "FR", "vat_id": "FR00000000000", "purchase_order": "PO-7"}
    answer = send(admin, "/admin/billing/details", data, prefix="details")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "not a valid EU VAT ID" in error_beside(html, "details-vat_id")
    assert 'value="Company A GmbH"' in html and 'value="PO-7"' in html
    assert account_of(app, companies[0].org.id) is None
    data["vat_id"] = "FR40303265045"
    assert send(admin, "/admin/billing/details", data, prefix="details").status_code == 303
    account = account_of(app, companies[0].org.id)
    assert account.vat_id == "FR40303265045" and account.vat_id_valid and account.country == "FR"
    assert "billing.details_changed" in actions(app)


def test_members_added_and_removed(app, admin, companies):
    answer = send(admin, "/admin/billing/members", {"email": companies[0].learner.email, "receives_mail": "y"}, prefix="member")
    assert answer.status_code == 303
    with app.app_context():
        member = db.session.scalar(sa.select(BillingMember))
        member_id, receives = member.id, member.receives_mail
    assert receives is True
    assert "Learner A" in admin.get("/admin/billing").get_data(as_text=True)
    twice = send(admin, "/admin/billing/members", {"email": companies[0].learner.email}, prefix="member")
    assert twice.status_code == 422
    stranger = send(admin, "/admin/billing/members", {"email": companies[1].learner.email}, prefix="member")
    assert stranger.status_code == 422 and "Nobody active" in stranger.get_data(as_text=True)
    assert send(admin, f"/admin/billing/members/{member_id}/remove", {}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BillingMember)) == 0
    assert {"billing.member_added", "billing.member_removed"} <= set(actions(app))


def test_billing_member_sees_invoices_but_no_forms_or_people(app, admin, finance, companies):
    subscribe(admin, seats=5)
    with app.app_context():
        db.session.add(BillingMember(org_id=companies[0].org.id, user_id=companies[0].manager.id, receives_mail=False))
        db.session.commit()
    (invoice,) = invoices_of(app, companies[0].org.id)
    page = finance.get("/admin/billing")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and invoice.number in html
    main = html.split('<main', 1)[1].split('</main>', 1)[0]
    assert 'method="post"' not in main and "Manager A" not in main and "Learner A" in main
    assert 'href="/admin/billing"' in finance.get("/dashboard").get_data(as_text=True)  # the account menu
    token = csrf_from(html)
    for url in ("/admin/billing/subscribe", "/admin/billing/seats", "/admin/billing/details", "/admin/billing/members",
                "/admin/billing/cancel"):
        assert finance.post(url, data={"csrf_token": token}).status_code == 403
    assert finance.get("/admin/users").status_code == 403


def test_people_without_the_permission_get_403(app, companies):
    assert signed_in(app, companies[0].manager).get("/admin/billing").status_code == 403
    assert signed_in(app, companies[0].learner).get("/admin/billing").status_code == 403


def test_another_companys_member_and_request_are_404(app, admin, companies):
    with app.app_context():
        member = BillingMember(org_id=companies[1].org.id, user_id=companies[1].learner.id)
        req = BillingRequest(org_id=companies[1].org.id, kind="portal", params={}, status="pending", url="", error="")
        db.session.add_all([member, req])
        db.session.commit()
        member_id, req_id = member.id, req.id
    assert admin.get(f"/admin/billing/requests/{req_id}").status_code == 404
    assert send(admin, f"/admin/billing/members/{member_id}/remove", {}).status_code == 404


def _request(app, org_id, **fields):
    with app.app_context():
        req = BillingRequest(org_id=org_id, kind="subscribe", params={}, **{"status": "pending", "url": "", "error": "", **fields})
        db.session.add(req)
        db.session.commit()
        return req.id


def test_request_page_waits_polls_and_moves_on(app, admin, companies):
    req_id = _request(app, companies[0].org.id)
    page = admin.get(f"/admin/billing/requests/{req_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'hx-trigger="every 1s"' in html and "Check again" in html
    fragment = admin.get(f"/admin/billing/requests/{req_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="request-status"') and "<html" not in fragment
    with app.app_context():
        db.session.get(BillingRequest, req_id).status = "done"
        db.session.get(BillingRequest, req_id).url = "https://checkout.example/pay"
        db.session.commit()
    assert admin.get(f"/admin/billing/requests/{req_id}").headers["Location"] == "https://checkout.example/pay"
    htmx = admin.get(f"/admin/billing/requests/{req_id}", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "https://checkout.example/pay"
    failed = _request(app, companies[0].org.id, status="failed", error="unreachable")
    assert "could not be reached" in admin.get(f"/admin/billing/requests/{failed}").get_data(as_text=True)
    done = _request(app, companies[0].org.id, status="done")
    assert admin.get(f"/admin/billing/requests/{done}").headers["Location"].endswith("/admin/billing")


def test_checkout_return_says_what_happened(admin):
    assert "being confirmed" in admin.get("/admin/billing/return?result=success").get_data(as_text=True)
    assert "nothing was charged" in admin.get("/admin/billing/return?result=cancelled").get_data(as_text=True)


def test_the_page_in_german_formats_money_in_german(app, companies):
    from leadthe.models import User

    with app.app_context():
        db.session.get(User, companies[0].admin.id).locale = "de"
        db.session.commit()
    html = signed_in(app, companies[0].admin).get("/admin/billing").get_data(as_text=True)
    assert "8,00\xa0€" in html


def test_status_card_says_when_past_due_turns_read_only_and_when_cancelled_ended(app, admin, companies):
    subscribe(admin, seats=5)
    with app.app_context():
        row = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == companies[0].org.id))
        row.status, row.past_due_since = "past_due", utcnow() - timedelta(days=20)
        db.session.commit()
    html = admin.get("/admin/billing").get_data(as_text=True)
    assert "Payment overdue" in html and "becomes read-only" in html
    assert "read-only for changes in the admin area until the open invoice is paid" in html  # 20 > 14 days of grace
    with app.app_context():
        row = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == companies[0].org.id))
        row.status, row.past_due_since = "cancelled", None
        db.session.commit()
    html = admin.get("/admin/billing").get_data(as_text=True)
    assert "Your subscription ended on" in html and "Reactivate the subscription" in html
