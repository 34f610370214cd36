"""``/admin/billing`` in a real browser, with JavaScript on and off, at a phone's width: a company admin in its
trial subscribes through the manual-invoicing provider (the first invoice appears), adds seats, cancels after
the confirmation page and reactivates, and sees a wrong VAT ID beside its field; axe on the page in each state
(from a JS-enabled page, as axe needs timers) and the Nu HTML checker on the pages as served."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from leadthe.extensions import db
from tests.conftest import make_org, make_user

from .helpers import log_in


def no_sideways_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_an_admin_subscribes_and_manages_the_subscription(live_app, page, js, new_page, axe_check):
    from leadthe.models.billing import BillingAccount, Invoice

    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    make_user(live_app, org, email="finn@example.com", name="Finn Finance")
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/admin")
    page.get_by_role("link", name="Company", exact=True).click()  # the group of billing, settings and SSO
    expect(page).to_have_url(re.compile(r"/admin/billing$"))
    expect(page.get_by_text("30 days left in your free trial")).to_be_visible()
    expect(page.get_by_text("No invoices yet.")).to_be_visible()
    assert no_sideways_scroll(page)
    if js:
        axe_check(page, label="/admin/billing in the trial")
    # too few seats: the error beside the field, nothing charged
    page.get_by_label("Team").check()
    page.get_by_label("Number of seats").fill("1")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#sub-seats-error")).to_contain_text("uses 2 seats now")
    page.get_by_label("Team").check()
    page.get_by_label("Yearly").check()
    page.get_by_label("Number of seats").fill("4")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("Your subscription is active.")).to_be_visible()
    with live_app.app_context():
        invoice = db.session.scalar(sa.select(Invoice))
        number, total = invoice.number, invoice.total_cents
    assert total == 4 * 8000 * 119 // 100
    expect(page.get_by_role("row").filter(has_text=number)).to_contain_text("€380.80")
    assert no_sideways_scroll(page)
    # more seats
    page.get_by_label("Paid seats").fill("6")
    page.get_by_role("button", name="Change seats").click()
    expect(page.get_by_text("The number of paid seats is changed.")).to_be_visible()
    # a wrong VAT ID: said beside the field, the rest kept
    page.get_by_label("Legal name of the company").fill("Example Ltd")
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("VAT ID (optional)").fill("FR123")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.locator("#details-vat_id-error")).to_contain_text("not a valid EU VAT ID")
    expect(page.get_by_label("Legal name of the company")).to_have_value("Example Ltd")
    if js:
        axe_check(page, label="/admin/billing with a refused VAT ID")
    page.get_by_label("VAT ID (optional)").fill("FR40303265045")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_text("Your billing details are saved.")).to_be_visible()
    # a billing contact
    page.get_by_label("E-mail address of the person").fill("finn@example.com")
    page.get_by_role("button", name="Give the billing permission").click()
    expect(page.get_by_text("Finn Finance now has the billing permission.")).to_be_visible()
    # cancel: a confirmation page first, then back; reactivate
    page.get_by_role("link", name="Cancel the subscription").click()
    expect(page.get_by_text("nobody loses data")).to_be_visible()
    if js:
        axe_check(page, label="/admin/billing/cancel")
    page.get_by_role("button", name="Cancel at the end of the period").click()
    expect(page.get_by_text("Your subscription ends at the end of the current period.")).to_be_visible()
    with live_app.app_context():
        assert db.session.scalar(sa.select(BillingAccount.cancel_at_period_end)) is True
    page.get_by_role("button", name="Reactivate the subscription").click()
    expect(page.get_by_text("Your subscription is active again.")).to_be_visible()
    assert no_sideways_scroll(page)
    if not js:
        checker = new_page(js=True)
        log_in(checker, "ada@example.com")
        expect(checker).to_have_url(re.compile(r"/dashboard$"))
        checker.goto("/admin/billing")
        axe_check(checker, label="/admin/billing, subscribed")


def test_a_billing_member_finds_the_invoices(live_app, page, js):
    from leadthe.models.billing import BillingMember

    org = make_org(live_app, "Example Ltd")
    finn = make_user(live_app, org, email="finn@example.com", name="Finn Finance")
    with live_app.app_context():
        db.session.add(BillingMember(org_id=org.id, user_id=finn.id, receives_mail=True))
        db.session.commit()
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "finn@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.locator("summary", has_text="Account").click()
    page.get_by_role("link", name="Billing").click()
    expect(page).to_have_url(re.compile(r"/admin/billing$"))
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(page.get_by_role("button", name="Subscribe")).to_have_count(0)
    assert no_sideways_scroll(page)


def test_the_pages_are_valid_html(live_app, page_js, tmp_path):
    from leadthe.models.billing import BillingRequest

    from . import nu
    from .test_sweep import require_nu

    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    require_nu()
    page = page_js
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/admin/billing")
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    token = page.locator('input[name="sub-csrf_token"]').get_attribute("value")
    answers = {}  # file name: (the answer, the status it must have)
    answers["trial"] = (page.request.get("/admin/billing"), 200)
    answers["refused-subscribe"] = (page.request.post("/admin/billing/subscribe", form={"sub-csrf_token": token}), 422)
    assert page.request.post("/admin/billing/subscribe", form={
        "sub-csrf_token": token, "sub-plan": "team", "sub-interval": "month", "sub-seats": "3"}, max_redirects=0).status == 303
    answers["active"] = (page.request.get("/admin/billing"), 200)
    answers["refused-details"] = (page.request.post("/admin/billing/details", form={
        "details-csrf_token": token, "details-vat_id": "DE1"}), 422)
    answers["cancel"] = (page.request.get("/admin/billing/cancel"), 200)
    with live_app.app_context():
        req = BillingRequest(org_id=org.id, kind="portal", params={}, status="pending", url="", error="")
        failed = BillingRequest(org_id=org.id, kind="portal", params={}, status="failed", url="", error="unreachable")
        db.session.add_all([req, failed])
        db.session.commit()
        ids = req.id, failed.id
    answers["request-pending"] = (page.request.get(f"/admin/billing/requests/{ids[0]}"), 200)
    answers["request-failed"] = (page.request.get(f"/admin/billing/requests/{ids[1]}"), 200)
    answers["return"] = (page.request.get("/admin/billing/return?result=success"), 200)
    for name, (response, status) in answers.items():
        assert response.status == status, (name, response.status)
        (tmp_path / f"{name}.html").write_text(response.text(), encoding="utf-8")
    messages = nu.check_files(sorted(tmp_path.glob("*.html")))
    assert not messages, "\n".join(f"{m.file}:{m.line}: {m.text} {m.extract}" for m in messages)


def test_the_request_page_moves_on_when_the_request_is_done(live_app, page, js):
    """With JavaScript the waiting page polls and moves on by itself; without, "Check again" does."""
    from leadthe.models.billing import BillingRequest

    org = make_org(live_app, "Example Ltd")
    make_user(live_app, org, email="ada@example.com", name="Ada Admin", role="admin")
    with live_app.app_context():
        req = BillingRequest(org_id=org.id, kind="cancel", params={}, status="pending", url="", error="")
        db.session.add(req)
        db.session.commit()
        req_id = req.id
    log_in(page, "ada@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto(f"/admin/billing/requests/{req_id}")
    expect(page.get_by_text("We are passing your request")).to_be_visible()
    with live_app.app_context():
        db.session.get(BillingRequest, req_id).status = "done"
        db.session.commit()
    if not js:
        page.get_by_role("link", name="Check again").click()
    expect(page).to_have_url(re.compile(r"/admin/billing$"))
    expect(page.get_by_text("Your subscription ends at the end of the current period.")).to_be_visible()
