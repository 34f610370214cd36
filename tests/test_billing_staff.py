"""The staff billing console (/staff/billing, issue 20): companies by state with MRR and seats, trial extensions
and credits with a reason (audited), manual invoices marked paid, plans with price versions; 404 for everyone
who is not platform staff."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leadthe.extensions import db
from tests.conftest import login_with_code, make_org, make_staff, post_form
from tests.helpers import signed_in

REASON = "Customer asked on the phone, ticket #4711"


@pytest.fixture
def staff(app):
    client = app.test_client()
    login_with_code(client, app, make_staff(app, email="billing-ops@leadthe.example"))
    return client


def _version(month=800, year=8000, code="team"):
    from leadthe.models.billing import Plan, PlanVersion

    plan = db.session.scalar(sa.select(Plan).where(Plan.code == code))
    if plan is None:
        plan = Plan(code=code, name=code.title(), description="", active=True, position=0)
        db.session.add(plan)
        db.session.flush()
    version = PlanVersion(plan_id=plan.id, version=1, currency="EUR", month_cents=month, year_cents=year)
    db.session.add(version)
    db.session.commit()
    return version


def _account(app, org, **fields):
    from leadthe.models.billing import BillingAccount

    with app.app_context():
        account = BillingAccount(org_id=org.id, **fields)
        db.session.add(account)
        db.session.commit()
        return account.id


def _get(app, model, row_id):
    with app.app_context():
        row = db.session.scalar(sa.select(model).where(model.id == row_id))
        db.session.expunge_all()
        return row


def _row(html: str, company: str) -> str:
    """The table row of ``company`` on the list, as text without tags."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if f">{company}</a>" in row:
            return " ".join(re.sub(r"<[^>]+>", " ", row).split())
    raise AssertionError(f"{company} is not on the page")


def test_companies_by_state_with_mrr_and_seats(app, companies, staff):
    from leadthe.models import utcnow

    a, b = companies
    c = make_org(app, "Company C")
    d = make_org(app, "Company D")
    now = utcnow()
    with app.app_context():
        month_version, year_version = _version(800, 8000).id, _version(1400, 12000, code="business").id
    _account(app, a.org, status="active", seats=10, plan_version_id=month_version, interval="month",
             current_period_start=now, current_period_end=now + timedelta(days=30))
    _account(app, c, status="past_due", seats=12, plan_version_id=year_version, interval="year", past_due_since=now)
    _account(app, d, status="cancelled", seats=5, plan_version_id=month_version, cancelled_at=now)
    # company B has no billing account yet: it is in its trial

    html = staff.get("/staff/billing").get_data(as_text=True)
    assert "€200.00" in html  # MRR: 10 × €8 (A) + 12 × €120 / 12 (C, past due still counts); the cancelled D not
    row_a = _row(html, "Company A")
    assert "Active" in row_a and "Team" in row_a and "3 / 10" in row_a and "€80.00" in row_a and "Manual invoicing" in row_a
    assert "Past due" in _row(html, "Company C") and "€120.00" in _row(html, "Company C")
    row_b = _row(html, "Company B")
    assert "Trial" in row_b and "3 / 25" in row_b and "€0.00" in row_b
    assert "€0.00" in _row(html, "Company D")

    trials = staff.get("/staff/billing?state=trialing").get_data(as_text=True)
    assert ">Company B</a>" in trials and ">Company A</a>" not in trials
    past_due = staff.get("/staff/billing?state=past_due").get_data(as_text=True)
    assert ">Company C</a>" in past_due and ">Company B</a>" not in past_due
    found = staff.get("/staff/billing?q=company+d").get_data(as_text=True)
    assert ">Company D</a>" in found and ">Company A</a>" not in found
    fragment = staff.get("/staff/billing?state=active", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and ">Company A</a>" in fragment


def test_the_list_takes_the_same_number_of_queries_for_more_companies(app, companies, staff):
    from tests.helpers import count_statements

    few = count_statements(app, staff, "/staff/billing")
    for n in range(6):
        org = make_org(app, f"Extra {n}")
        _account(app, org, status="active", seats=3)
    assert count_statements(app, staff, "/staff/billing") == few


def test_extend_a_trial_that_ran_out(app, companies, staff):
    from leadthe.models import AuditEvent, utcnow
    from leadthe.models.billing import BillingAccount, BillingAdjustment

    a = companies[0]
    account_id = _account(app, a.org, status="cancelled", trial_ends_at=utcnow() - timedelta(days=3), cancelled_at=utcnow())
    r = post_form(staff, f"/staff/billing/{a.org.id}/trial", {"days": "14", "reason": REASON}, page=f"/staff/billing/{a.org.id}")
    assert r.status_code == 303
    account = _get(app, BillingAccount, account_id)
    assert account.status == "trialing"
    assert abs(account.trial_ends_at - (utcnow() + timedelta(days=14))) < timedelta(minutes=5)  # from now: it had ended
    with app.app_context():
        adjustment = db.session.scalar(sa.select(BillingAdjustment))
        assert (adjustment.kind, adjustment.days, adjustment.reason) == ("trial_extension", 14, REASON)
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "billing.trial_extended"))
        assert event.org_id == a.org.id and event.details["reason"] == REASON
    page = staff.get(f"/staff/billing/{a.org.id}").get_data(as_text=True)
    assert REASON in page and "Sam Staff" in page


def test_a_running_trial_is_extended_from_its_end_and_a_missing_account_is_made(app, companies, staff):
    from leadthe.billing import accounts
    from leadthe.models.billing import BillingAccount

    b = companies[1]
    with app.app_context():
        ends = accounts.account_view(b.org.id).trial_ends_at
    assert post_form(staff, f"/staff/billing/{b.org.id}/trial", {"days": "7", "reason": REASON},
                     page=f"/staff/billing/{b.org.id}").status_code == 303
    with app.app_context():
        account = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == b.org.id))
        assert account.trial_ends_at == ends + timedelta(days=7)


@pytest.mark.parametrize("data", [{"days": "14", "reason": ""}, {"days": "14", "reason": "because"},
                                  {"days": "91", "reason": REASON}, {"days": "", "reason": REASON}, {"days": "¹", "reason": REASON}])
def test_a_trial_extension_without_a_reason_or_with_wrong_days_changes_nothing(app, companies, staff, data):
    from leadthe.models import utcnow
    from leadthe.models.billing import BillingAccount, BillingAdjustment

    a = companies[0]
    ends = utcnow() + timedelta(days=3)
    account_id = _account(app, a.org, status="trialing", trial_ends_at=ends)
    r = post_form(staff, f"/staff/billing/{a.org.id}/trial", data, page=f"/staff/billing/{a.org.id}")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'aria-invalid="true"' in html
    assert _get(app, BillingAccount, account_id).trial_ends_at == ends
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BillingAdjustment)) == 0


def test_grant_credit(app, companies, staff):
    from leadthe.models import AuditEvent
    from leadthe.models.billing import BillingAccount

    a = companies[0]
    account_id = _account(app, a.org, status="active", seats=5, credit_cents=500)
    page = f"/staff/billing/{a.org.id}"
    for amount in ("0", "10000.01", "-5", "12.345"):
        assert post_form(staff, f"{page}/credit", {"amount": amount, "reason": REASON}, page=page).status_code == 422
    assert post_form(staff, f"{page}/credit", {"amount": "99,50", "reason": ""}, page=page).status_code == 422
    assert _get(app, BillingAccount, account_id).credit_cents == 500
    assert post_form(staff, f"{page}/credit", {"amount": "99,50", "reason": REASON}, page=page).status_code == 303
    assert _get(app, BillingAccount, account_id).credit_cents == 500 + 9950
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "billing.credit_granted"))
        assert event.details["reason"] == REASON and event.details["amount_cents"] == 9950
    html = staff.get(page).get_data(as_text=True)
    assert "Credit of €99.50" in html and "€104.50" in html


def test_a_stripe_company_page_says_where_the_credit_goes(app, companies, staff):
    a = companies[0]
    _account(app, a.org, status="active", provider="stripe", stripe_customer_id="cus_123")
    html = staff.get(f"/staff/billing/{a.org.id}").get_data(as_text=True)
    assert "it is not passed on to Stripe" in html


def test_mark_a_manual_invoice_paid_makes_a_past_due_company_active(app, companies, staff):
    from leadthe.billing import accounts, invoices
    from leadthe.models import utcnow
    from leadthe.models.billing import BillingAccount, Invoice

    a = companies[0]
    account_id = _account(app, a.org, status="past_due", seats=5, past_due_since=utcnow() - timedelta(days=3))
    with app.app_context():
        account = accounts.account_for(a.org.id)
        invoice = invoices.issue_invoice(account, lines=[{"description": "Team, 5 seats", "quantity": 5, "unit_cents": 800}],
                                         issued_at=utcnow() - timedelta(days=20))
        invoice_id, number = invoice.id, invoice.number
        db.session.commit()
    page = f"/staff/billing/{a.org.id}"
    html = staff.get(page).get_data(as_text=True)
    assert number in html and "Bank transfer received" in html
    asked = post_form(staff, f"/staff/billing/invoices/{invoice_id}/paid", {}, page=page)
    assert asked.status_code == 200 and "Mark invoice" in asked.get_data(as_text=True)  # the confirmation first
    assert _get(app, Invoice, invoice_id).status == "open"
    done = post_form(staff, f"/staff/billing/invoices/{invoice_id}/paid", {"confirmed": "yes"}, page=page)
    assert done.status_code == 303
    assert _get(app, Invoice, invoice_id).status == "paid"
    assert _get(app, BillingAccount, account_id).status == "active"
    again = post_form(staff, f"/staff/billing/invoices/{invoice_id}/paid", {"confirmed": "yes"}, page=page, follow=True)
    assert "is not open" in again.get_data(as_text=True)


def test_a_stripe_invoice_is_not_marked_paid_by_staff(app, companies, staff):
    from leadthe.billing import accounts, invoices
    from leadthe.models.billing import Invoice

    a = companies[0]
    _account(app, a.org, status="past_due", seats=5, provider="stripe")
    with app.app_context():
        invoice = invoices.issue_invoice(accounts.account_for(a.org.id), provider_invoice_id="in_1",
                                         lines=[{"description": "Team, 5 seats", "quantity": 5, "unit_cents": 800}])
        invoice_id = invoice.id
        db.session.commit()
    page = f"/staff/billing/{a.org.id}"
    r = post_form(staff, f"/staff/billing/invoices/{invoice_id}/paid", {"confirmed": "yes"}, page=page, follow=True)
    assert "when Stripe tells us" in r.get_data(as_text=True)
    assert _get(app, Invoice, invoice_id).status == "open"


def test_new_prices_are_a_new_version_and_running_periods_keep_theirs(app, companies, staff):
    from leadthe.models import AuditEvent
    from leadthe.models.billing import BillingAccount, Plan, PlanVersion

    r = post_form(staff, "/staff/billing/plans", {"code": "Enterprise", "name": "Enterprise", "description": "Big",
                                                  "month": "20", "year": "200.00", "position": "3", "active": "y"})
    assert r.status_code == 303
    with app.app_context():
        plan = db.session.scalar(sa.select(Plan).where(Plan.code == "enterprise"))
        first = db.session.scalar(sa.select(PlanVersion).where(PlanVersion.plan_id == plan.id))
        assert (first.version, first.month_cents, first.year_cents) == (1, 2000, 20000)
        plan_id, first_id = plan.id, first.id
    taken = post_form(staff, "/staff/billing/plans", {"code": "enterprise", "name": "Again", "month": "1", "year": "1", "position": "0"})
    assert taken.status_code == 422 and "exists already" in taken.get_data(as_text=True)
    account_id = _account(app, companies[0].org, status="active", seats=4, plan_version_id=first_id)

    url = f"/staff/billing/plans/{plan_id}"
    assert post_form(staff, url, {"part": "prices", "month": "25", "year": "250", "note": ""}).status_code == 422
    assert post_form(staff, url, {"part": "prices", "month": "25", "year": "250", "note": "Yearly price review"}).status_code == 303
    with app.app_context():
        versions = db.session.execute(sa.select(PlanVersion.version, PlanVersion.month_cents, PlanVersion.note)
                                      .where(PlanVersion.plan_id == plan_id).order_by(PlanVersion.version)).all()
        assert [tuple(v) for v in versions] == [(1, 2000, ""), (2, 2500, "Yearly price review")]
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "billing.prices_changed"))
    assert _get(app, BillingAccount, account_id).plan_version_id == first_id  # the running period keeps version 1
    html = staff.get(url).get_data(as_text=True)
    assert "€25.00" in html and "€20.00" in html and "never changed" in html

    assert post_form(staff, url, {"part": "details", "name": "Enterprise plus", "description": "", "position": "1"}).status_code == 303
    with app.app_context():
        plan = db.session.scalar(sa.select(Plan).where(Plan.id == plan_id))
        assert (plan.name, plan.active, plan.position) == ("Enterprise plus", False, 1)


def test_only_platform_staff_see_the_console(app, companies, client):
    a = companies[0]
    admin = signed_in(app, a.admin.email)
    for url in ("/staff/billing", f"/staff/billing/{a.org.id}", "/staff/billing/plans"):
        assert client.get(url).status_code == 404
        assert admin.get(url).status_code == 404
    assert post_form(admin, f"/staff/billing/{a.org.id}/credit", {"amount": "50", "reason": REASON},
                     page="/admin").status_code == 404


def test_an_unknown_company_is_404(app, staff):
    assert staff.get("/staff/billing/999999").status_code == 404
    assert staff.get("/staff/billing/plans/999999").status_code == 404


def test_a_company_that_subscribed_has_no_trial_to_extend(app, companies, staff):
    from leadthe.models.billing import BillingAccount

    a = companies[0]
    account_id = _account(app, a.org, status="active", seats=5)
    r = post_form(staff, f"/staff/billing/{a.org.id}/trial", {"days": "14", "reason": REASON}, page=f"/staff/billing/{a.org.id}")
    assert r.status_code == 422 and "no trial to extend" in r.get_data(as_text=True)
    assert _get(app, BillingAccount, account_id).trial_ends_at is None


def test_a_trial_that_ran_out_without_an_account_says_so(app, companies, staff):
    from leadthe.models import Organization, utcnow

    a = companies[0]
    with app.app_context():
        db.session.execute(sa.update(Organization).where(Organization.id == a.org.id)
                           .values(created_at=utcnow() - timedelta(days=40)))
        db.session.commit()
    html = staff.get("/staff/billing").get_data(as_text=True)
    assert "ended" in _row(html, "Company A") and "ended" not in _row(html, "Company B")
