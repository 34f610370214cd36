"""Invoices and the privacy rules (issue 20): an invoice is kept ten years (tax law), also after its company has
left, and never keeps a person: an erased billing contact is replaced by their role ("Billing contact") in the
record, in its PDF and in the database files, while the company's data stays. The person's export lists the
invoices addressed and mailed to them."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from pypdf import PdfReader

from leadthe.billing import accounts
from leadthe.billing.invoices import issue_invoice
from leadthe.extensions import db
from leadthe.models import Organization, User, utcnow
from leadthe.models.billing import BillingMember, Invoice, InvoiceRecipient
from leadthe.models.enums import BillingStatus
from leadthe.privacy.erasure import checkpoint
from leadthe.worker import run_once
from tests.conftest import login_with_code, make_staff, make_user
from tests.helpers import login, sqlite_file_bytes
from tests.test_privacy import export_via_http, request_deletion

NAME, EMAIL = "Zelda Quartermaine", "zelda.quartermaine@a.example"
BUYER_VAT = "ATU13585627"


def _account(org_id: int):
    account = accounts.account_for(org_id)
    account.status, account.legal_name, account.address_line1 = BillingStatus.ACTIVE, "Acme Widgets GmbH", "Ring 1"
    account.postcode, account.city, account.country, account.vat_id, account.vat_id_valid = "1010", "Wien", "AT", BUYER_VAT, True
    return account


def a_billing_contact_with_an_invoice(app, company) -> tuple[int, int]:
    """Zelda, a billing contact of ``company``, and an invoice addressed and mailed to her (ids)."""
    person = make_user(app, company.org, email=EMAIL, name=NAME)
    with app.app_context():
        db.session.add(BillingMember(org_id=company.org.id, user_id=person.id, receives_mail=True))
        invoice = issue_invoice(_account(company.org.id), lines=[{"description": "LeadThe.AI Team, per seat and month",
                                                                   "quantity": 12, "unit_cents": 800}])
        db.session.commit()
        return person.id, invoice.id


def pdf_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())


def raw_database(database_url: str) -> bytes:
    return sqlite_file_bytes(database_url)  # the .db, its WAL and shm


def erase(app, client, email: str) -> None:
    """The real path: the person asks for deletion; after the grace period the worker erases them."""
    assert request_deletion(client, email).status_code == 303
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "retention", "--now", (utcnow() + timedelta(days=7, minutes=1)).isoformat()]).exit_code == 0
    with app.app_context():
        run_once(utcnow() + timedelta(days=7, minutes=2))


def test_an_erased_billing_contact_leaves_the_invoice_with_their_role_in_record_pdf_and_files(app, companies, backend,
                                                                                                database_url):
    a, _ = companies
    person_id, invoice_id = a_billing_contact_with_an_invoice(app, a)
    client = app.test_client()
    login(client, EMAIL)
    pdf_url = f"/admin/billing/invoices/{invoice_id}.pdf"
    assert f"For the attention of: {NAME}" in pdf_text(client, pdf_url)
    # the export lists the invoices addressed and mailed to her
    archive, _status, _link = export_via_http(client, app)
    communications = json.loads(archive.read("export.json"))["categories"]["communications"]
    with app.app_context():
        number = db.session.get(Invoice, invoice_id).number
    assert [(row["number"], row["contact_name"], row["contact_email"]) for row in communications["invoice"]] == [(number, NAME, EMAIL)]
    assert [(row["invoice_id"], row["email"]) for row in communications["invoice_recipient"]] == [(invoice_id, EMAIL)]
    if backend == "sqlite":  # the test can fail: before the erasure her name and address are in the files
        with app.app_context():
            checkpoint()
        raw = raw_database(database_url)
        assert NAME.encode() in raw and EMAIL.encode() in raw
    erase(app, client, EMAIL)
    with app.app_context():
        assert db.session.get(User, person_id) is None
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.contact_name, invoice.contact_email, invoice.contact_user_id) == ("Billing contact", None, None)
        assert invoice.subject_ref and len(invoice.subject_ref) == 64
        assert (invoice.org_id, invoice.number, invoice.buyer["name"], invoice.buyer["vat_id"]) == (
            a.org.id, number, "Acme Widgets GmbH", BUYER_VAT)
        assert (invoice.net_cents, invoice.tax_cents, invoice.total_cents, invoice.reverse_charge) == (9600, 0, 9600, True)
        recipient = db.session.scalar(sa.select(InvoiceRecipient).where(InvoiceRecipient.invoice_id == invoice_id))
        assert (recipient.name, recipient.email, recipient.user_id) == ("Billing contact", None, None)
    admin = app.test_client()
    login(admin, a.admin.email)
    text = pdf_text(admin, pdf_url)
    assert "For the attention of: Billing contact" in text and "Acme Widgets GmbH" in text and BUYER_VAT in text
    assert NAME not in text and "Zelda" not in text and EMAIL not in text
    if backend == "sqlite":
        raw = raw_database(database_url)
        assert NAME.encode() not in raw and EMAIL.encode() not in raw, "the erased contact is still in the SQLite files"


def test_invoices_are_deleted_only_ten_years_after_their_year(app, companies):
    a, _ = companies
    year = utcnow().year
    with app.app_context():
        account = _account(a.org.id)
        line = [{"description": "Seats", "quantity": 1, "unit_cents": 800}]
        for when in (year - 11, year - 10, year - 1):
            issue_invoice(account, lines=line, issued_at=datetime(when, 12, 31, 12, tzinfo=timezone.utc), mail=False)
        db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["leadthe", "retention"]).exit_code == 0
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Invoice.year))) == [year - 10, year - 1]
    assert runner.invoke(args=["leadthe", "retention", "--now", datetime(year + 1, 1, 1, 0, 1, tzinfo=timezone.utc).isoformat()]).exit_code == 0
    with app.app_context():
        assert list(db.session.scalars(sa.select(Invoice.year))) == [year - 1]


def test_an_invoice_outlives_its_company_and_staff_can_still_download_it(app, companies):
    a, _ = companies
    person_id, invoice_id = a_billing_contact_with_an_invoice(app, a)
    staff = make_staff(app)
    from leadthe.staff.services import close_company  # noqa: PLC0415  (the staff area's service, used as staff would)

    with app.app_context():
        close_company(db.session.get(Organization, a.org.id), db.session.get(User, staff.id), "Contract ended")
        db.session.commit()
    runner = app.test_cli_runner()
    later = utcnow() + timedelta(days=app.config["RETENTION_CLOSED_DAYS"] + 1)
    assert runner.invoke(args=["leadthe", "retention", "--now", later.isoformat()]).exit_code == 0
    with app.app_context():
        assert db.session.get(Organization, a.org.id) is None and db.session.get(User, person_id) is None
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.org_id is None and invoice.buyer["name"] == "Acme Widgets GmbH"
        assert invoice.contact_name == "Billing contact" and invoice.contact_email is None
    client = app.test_client()
    login_with_code(client, app, staff)
    text = pdf_text(client, f"/staff/billing/invoices/{invoice_id}.pdf")
    assert "Acme Widgets GmbH" in text and BUYER_VAT in text and "Billing contact" in text and NAME not in text
