"""Our invoice records (issue 20): gapless numbers per year under concurrent charges, VAT and reverse charge,
credits, the invoice mail, the PDF (its text and its download routes) and the renewal of manual subscriptions."""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from leadthe.billing import accounts, plans
from leadthe.billing.invoices import issue_invoice
from leadthe.billing.renewals import run_renewals
from leadthe.extensions import db
from leadthe.models import OutboxMail, utcnow
from leadthe.models.billing import BillingAccount, BillingAdjustment, BillingMember, Invoice, InvoiceRecipient, PlanVersion
from leadthe.models.enums import BillingStatus
from tests.conftest import login_with_code, make_staff, make_user
from tests.helpers import login

SELLER_VAT = "DE000000000"
LINE = [{"description": "LeadThe.AI Team, per seat and month", "quantity": 10, "unit_cents": 800}]


def set_up_account(org_id: int, *, country="DE", vat_id="", period_end=None, **extra) -> BillingAccount:
    """A paying manual account with billing details (inside an app context; flushed, not committed)."""
    plans.ensure_default_plans()
    version = db.session.scalar(sa.select(PlanVersion).order_by(PlanVersion.id).limit(1))
    account = accounts.account_for(org_id)
    account.status, account.plan_version_id, account.seats, account.interval = BillingStatus.ACTIVE, version.id, 10, "month"
    account.legal_name, account.address_line1, account.postcode, account.city = "Acme Widgets GmbH", "Hauptstraße 5", "80331", "München"
    account.country, account.vat_id = country, vat_id
    account.vat_id_valid = bool(vat_id)
    end = period_end or utcnow() + timedelta(days=20)
    account.current_period_start, account.current_period_end = end - timedelta(days=30), end
    for name, value in extra.items():
        setattr(account, name, value)
    db.session.flush()
    return account


def issue(app, org_id: int, **account_fields) -> int:
    with app.app_context():
        account = set_up_account(org_id, **account_fields)
        invoice_id = issue_invoice(account, lines=LINE).id
        db.session.commit()
        return invoice_id


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- numbers ---------------------------------------------------------------------------------------------

def charge_at_once(app, org_id: int, times: int) -> list[int]:
    """``times`` invoices to the company issued at the same moment, each in its own thread, session and
    transaction (released together by a barrier); the ids of those that committed."""
    barrier = threading.Barrier(times)

    def charge(_n):
        with app.app_context():
            account = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == org_id))
            db.session.commit()  # the write below starts its own transaction
            barrier.wait(timeout=10)
            invoice_id = issue_invoice(account, lines=LINE, mail=False).id
            db.session.commit()
            return invoice_id

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(charge, range(times), timeout=60))


def test_twenty_concurrent_charges_get_the_numbers_one_to_twenty(app, companies):
    """No gap, no duplicate."""
    org_id = companies[0].org.id
    with app.app_context():
        set_up_account(org_id)
        db.session.commit()
    assert len(charge_at_once(app, org_id, 20)) == 20
    year = utcnow().year
    with app.app_context():
        rows = db.session.execute(sa.select(Invoice.seq, Invoice.number).order_by(Invoice.seq)).all()
    assert [seq for seq, _n in rows] == list(range(1, 21))
    assert [number for _s, number in rows] == [f"{year}-{n:06d}" for n in range(1, 21)]


def test_credit_is_spent_once_when_two_invoices_are_issued_at_once(app, companies):
    org_id = companies[0].org.id
    with app.app_context():
        set_up_account(org_id, credit_cents=5000)
        db.session.commit()
    charge_at_once(app, org_id, 2)
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Invoice.net_cents))) == [3000, 8000]
        assert accounts.account_view(org_id).credit_cents == 0


def test_a_rolled_back_invoice_gives_its_number_back_and_numbers_restart_each_year(app, companies):
    org_id = companies[0].org.id
    with app.app_context():
        account = set_up_account(org_id)
        db.session.commit()
        assert issue_invoice(account, lines=LINE).number.endswith("-000001")
        db.session.rollback()  # the charge failed: its invoice and its number are gone
        first = issue_invoice(account, lines=LINE)
        second = issue_invoice(account, lines=LINE)
        next_year = issue_invoice(account, lines=LINE, issued_at=datetime(utcnow().year + 1, 1, 1, 0, 5, tzinfo=timezone.utc))
        db.session.commit()
        year = utcnow().year
        assert (first.number, second.number) == (f"{year}-000001", f"{year}-000002")
        assert next_year.number == f"{year + 1}-000001"


# --- tax -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("country, vat_id, rate, reverse, note", [
    ("DE", "DE136695976", 1900, False, ""),  # the seller's country: the seller's rate
    ("AT", "ATU13585627", 0, True, "reverse_charge"),  # another EU country, valid VAT ID: reverse charge
    ("AT", "ATU13585626", 1900, False, ""),  # a wrong check digit: not a valid VAT ID, the seller's rate
    ("US", "", 0, False, "outside_eu"),  # outside the EU: not taxable here
])
def test_tax_follows_the_buyers_country_and_vat_id(app, companies, country, vat_id, rate, reverse, note):
    invoice_id = issue(app, companies[0].org.id, country=country, vat_id=vat_id)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        tax = (8000 * rate + 5000) // 10000
        assert (invoice.tax_rate_bp, invoice.reverse_charge, invoice.tax_note) == (rate, reverse, note)
        assert (invoice.net_cents, invoice.tax_cents, invoice.total_cents) == (8000, tax, 8000 + tax)
        assert invoice.buyer["vat_id"] == vat_id and invoice.buyer["vat_id_valid"] is (vat_id not in ("", "ATU13585626"))


def test_a_vat_id_is_checked_again_when_the_invoice_is_issued(app, companies):
    """An account marked valid whose VAT ID fails the check digits pays VAT: no reverse charge on trust."""
    invoice_id = issue(app, companies[0].org.id, country="AT", vat_id="ATU13585626", vat_id_valid=True)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.tax_rate_bp, invoice.reverse_charge, invoice.tax_cents) == (1900, False, 1520)


def test_the_seller_and_buyer_are_frozen_when_issued(app, companies):
    org_id = companies[0].org.id
    invoice_id = issue(app, org_id, purchase_order="PO-77")
    with app.app_context():
        account = accounts.account_for(org_id)
        account.legal_name, account.city = "Renamed AG", "Hamburg"
        db.session.commit()
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.buyer["name"] == "Acme Widgets GmbH" and "80331 München" in invoice.buyer["address"]
        assert invoice.buyer["purchase_order"] == "PO-77"
        assert invoice.seller["vat_id"] == SELLER_VAT and invoice.seller["name"] == app.config["BILLING_SELLER"]["name"]


def test_staff_credit_is_taken_off_the_next_invoice_and_what_is_left_stays(app, companies):
    org_id = companies[0].org.id
    with app.app_context():
        account = set_up_account(org_id, credit_cents=10000)
        db.session.add(BillingAdjustment(org_id=org_id, kind="credit", amount_cents=10000, reason="Outage in May"))
        first = issue_invoice(account, lines=LINE)  # 80.00 net, all of it credit
        second = issue_invoice(account, lines=LINE)  # the 20.00 left
        third = issue_invoice(account, lines=LINE)
        db.session.commit()
        assert (first.net_cents, first.tax_cents, first.total_cents) == (0, 0, 0)
        assert first.lines[-1] == {"description": "Credit", "quantity": 1, "unit_cents": -8000, "amount_cents": -8000}
        assert (second.net_cents, second.tax_cents) == (6000, 1140)
        assert (third.net_cents, len(third.lines)) == (8000, 1)
        assert account.credit_cents == 0
        assert db.session.scalar(sa.select(BillingAdjustment.applied_invoice_id)) == first.id


def test_prorated_lines_and_the_processors_amounts_are_kept_as_given(app, companies):
    org_id = companies[0].org.id
    with app.app_context():
        account = set_up_account(org_id, credit_cents=500)
        prorated = issue_invoice(account, lines=[{"description": "3 more seats, 12 of 30 days", "quantity": 3,
                                                  "unit_cents": 800, "amount_cents": 960}], currency="usd")
        charged = issue_invoice(account, lines=LINE, provider_invoice_id="in_123", paid=True,
                                amounts={"net_cents": 8000, "tax_cents": 1520, "total_cents": 9520, "currency": "eur"})
        db.session.commit()
        assert (prorated.net_cents, prorated.currency, prorated.lines[0]["amount_cents"]) == (460, "USD", 960)
        assert (charged.total_cents, charged.currency, charged.status, charged.due_at) == (9520, "EUR", "paid", None)
        assert account.credit_cents == 0  # the processor's charge takes no credit of ours


# --- the mail --------------------------------------------------------------------------------------------

def test_every_billing_contact_gets_the_invoice_mail_addressed_to_the_first(app, companies):
    a = companies[0]
    finance = make_user(app, a.org, email="finance@a.example", name="Fiona Finance")
    with app.app_context():
        db.session.add_all([BillingMember(org_id=a.org.id, user_id=finance.id, receives_mail=True),
                            BillingMember(org_id=a.org.id, user_id=a.manager.id, receives_mail=True)])
        db.session.commit()
    invoice_id = issue(app, a.org.id)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.contact_name, invoice.contact_email) == ("Fiona Finance", "finance@a.example")
        assert set(db.session.scalars(sa.select(InvoiceRecipient.email))) == {"finance@a.example", a.manager.email}
        mails = db.session.scalars(sa.select(OutboxMail).where(OutboxMail.kind == "billing_invoice")).all()
        assert {m.to_addr for m in mails} == {"finance@a.example", a.manager.email}
        mail = next(m for m in mails if m.to_addr == "finance@a.example")
        assert mail.subject == f"Invoice {invoice.number} from LeadThe.AI"
        body = mail.body_text
        assert "95.20 EUR" in body and app.config["BILLING_SELLER"]["iban"] in body
        assert "http://localhost/admin/billing" in body and f"/admin/billing/invoices/{invoice_id}.pdf" in body


def test_without_billing_contacts_the_admins_get_it_and_no_customer_text_reaches_the_subject(app, companies):
    a = companies[0]
    with app.app_context():
        org = db.session.get(type(a.org), a.org.id)
        org.name = "Evil\nBcc: x@evil.example"
        db.session.commit()
    issue(app, a.org.id, legal_name="")
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.kind == "billing_invoice"))
        assert mail.to_addr == a.admin.email and "evil" not in mail.subject.lower()


# --- the PDF ---------------------------------------------------------------------------------------------

def test_the_pdf_holds_both_vat_ids_the_amounts_and_the_reverse_charge_note(app, companies):
    invoice_id = issue(app, companies[0].org.id, country="AT", vat_id="ATU13585627", purchase_order="PO-9")
    client = app.test_client()
    login(client, companies[0].admin.email)
    response = client.get(f"/admin/billing/invoices/{invoice_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with app.app_context():
        number = db.session.get(Invoice, invoice_id).number
    assert response.headers["Content-Disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]  # never kept by a shared cache
    text = " ".join(pdf_text(response.data).split())
    for expected in (SELLER_VAT, "ATU13585627", "Acme Widgets GmbH", number, "PO-9", "For the attention of: Admin A",
                     "80.00 EUR", "0.00 EUR", "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Council "
                     "Directive 2006/112/EC)", "IBAN"):
        assert expected in text, expected
    assert client.get(f"/admin/billing/invoices/{invoice_id}.pdf").data == response.data  # the same record, the same PDF


def test_the_pdf_of_a_domestic_invoice_shows_vat_and_a_paid_one_no_bank_details(app, companies):
    org_id = companies[0].org.id
    with app.app_context():
        account = set_up_account(org_id, vat_id="DE136695976")
        invoice = issue_invoice(account, lines=LINE, paid=True, provider_invoice_id="in_abc")
        db.session.commit()
        from leadthe.billing.invoice_pdf import invoice_pdf  # noqa: PLC0415  (drawn here, outside a request)

        with app.test_request_context():
            text = " ".join(pdf_text(invoice_pdf(invoice)).split())
    assert "95.20 EUR" in text and "15.20 EUR" in text and "VAT 19%" in text and "in_abc" in text and "Paid on" in text
    assert "IBAN" not in text and "Reverse charge" not in text


def test_the_pdf_of_a_buyer_outside_the_eu_says_why_there_is_no_vat(app, companies):
    invoice_id = issue(app, companies[0].org.id, country="US")
    client = app.test_client()
    login(client, companies[0].admin.email)
    text = " ".join(pdf_text(client.get(f"/admin/billing/invoices/{invoice_id}.pdf").data).split())
    assert "Not taxable in Germany" in text and "Reverse charge" not in text


def test_invoice_pdfs_are_for_the_companys_admins_billing_members_and_staff(app, companies):
    a, b = companies
    own, other = issue(app, a.org.id), issue(app, b.org.id)
    client = app.test_client()
    login(client, a.learner.email)
    assert client.get(f"/admin/billing/invoices/{own}.pdf").status_code == 403
    with app.app_context():
        db.session.add(BillingMember(org_id=a.org.id, user_id=a.learner.id, receives_mail=False))
        db.session.commit()
    assert client.get(f"/admin/billing/invoices/{own}.pdf").status_code == 200  # the billing permission
    assert client.get(f"/admin/billing/invoices/{other}.pdf").status_code == 404  # another company's
    assert client.get(f"/staff/billing/invoices/{own}.pdf").status_code == 404
    staff = make_staff(app)
    staff_client = app.test_client()
    login_with_code(staff_client, app, staff)
    for invoice_id in (own, other):
        assert staff_client.get(f"/staff/billing/invoices/{invoice_id}.pdf").status_code == 200
    assert staff_client.get("/staff/billing/invoices/999999.pdf").status_code == 404
    assert app.test_client().get(f"/staff/billing/invoices/{own}.pdf").status_code == 404


# --- renewals --------------------------------------------------------------------------------------------

def test_a_changed_price_applies_to_the_next_period_only(app, companies):
    org_id = companies[0].org.id
    now = utcnow()
    with app.app_context():
        account = set_up_account(org_id, period_end=now + timedelta(days=3))
        old_version = account.plan_version_id
        plan_id = db.session.get(PlanVersion, old_version).plan_id
        db.session.add(PlanVersion(plan_id=plan_id, version=2, currency="EUR", month_cents=1000, year_cents=10000,
                                   stripe_price_month="", stripe_price_year="", note="New prices"))
        db.session.commit()
        assert run_renewals(now) == 0  # the running period keeps its price: nothing issued, nothing changed
        db.session.commit()
        assert db.session.get(BillingAccount, account.id).plan_version_id == old_version
        later = now + timedelta(days=3, hours=1)
        assert run_renewals(later) == 1
        db.session.commit()
        assert run_renewals(later) == 0  # the same day again: nothing twice
        db.session.commit()
        invoice = db.session.scalar(sa.select(Invoice))
        account = db.session.get(BillingAccount, account.id)
        assert invoice.lines[0]["unit_cents"] == 1000 and invoice.net_cents == 10000
        assert account.plan_version_id != old_version and account.current_period_start == invoice.period_start
        assert invoice.period_start == now + timedelta(days=3) and account.current_period_end == invoice.period_end > later


def test_a_subscription_cancelled_at_the_period_end_ends_without_an_invoice(app, companies):
    org_id = companies[0].org.id
    now = utcnow()
    with app.app_context():
        set_up_account(org_id, period_end=now - timedelta(hours=1), cancel_at_period_end=True)
        db.session.commit()
        assert run_renewals(now) == 0
        db.session.commit()
        account = accounts.account_view(org_id)
        assert account.status == BillingStatus.CANCELLED and account.cancelled_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 0
        assert run_renewals(now) == 0


def test_renewals_leave_trials_and_stripe_subscriptions_alone_and_take_credit(app, companies):
    a, b = companies
    now = utcnow()
    with app.app_context():
        set_up_account(a.org.id, period_end=now - timedelta(hours=1), credit_cents=3000)
        set_up_account(b.org.id, period_end=now - timedelta(hours=1), provider="stripe")
        db.session.commit()
        assert run_renewals(now) == 1
        db.session.commit()
        invoice = db.session.scalar(sa.select(Invoice))
        assert invoice.org_id == a.org.id and invoice.net_cents == 8000 - 3000


def test_the_invoice_mail_is_written_in_each_recipients_language(app, companies):
    a = companies[0]
    with app.app_context():
        from leadthe.models import User  # noqa: PLC0415  (the person's language, set as their preferences page does)

        db.session.get(User, a.manager.id).locale = "de"
        db.session.add(BillingMember(org_id=a.org.id, user_id=a.manager.id, receives_mail=True))
        db.session.add(BillingMember(org_id=a.org.id, user_id=a.admin.id, receives_mail=True))
        account = set_up_account(a.org.id, legal_name="Acme")
        issue_invoice(account, lines=[{"description": "Seats", "quantity": 1000, "unit_cents": 800}])
        db.session.commit()
        bodies = {m.to_addr: m.body_text for m in db.session.scalars(sa.select(OutboxMail))}
    assert "9.520,00 EUR" in bodies[a.manager.email]  # German: 9.520,00
    assert "9,520.00 EUR" in bodies[a.admin.email]


def test_the_pdf_is_drawn_in_the_viewers_language_from_the_same_record(app, companies):
    a = companies[0]
    invoice_id = issue(app, a.org.id)
    with app.app_context():
        from leadthe.models import User  # noqa: PLC0415  (the admin's language, as their preferences page sets it)

        db.session.get(User, a.admin.id).locale = "de"
        db.session.commit()
    client = app.test_client()
    login(client, a.admin.email)
    text = " ".join(pdf_text(client.get(f"/admin/billing/invoices/{invoice_id}.pdf").data).split())
    assert "95,20 EUR" in text and "15,20 EUR" in text and "DE000000000" in text
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).total_cents == 9520  # the record is the same for every reader
