"""Our invoice records (issue 20): gapless numbers per year under concurrent charges, VAT and reverse charge,
credits, the invoice mail, the PDF (its text and its download routes) and the renewal of manual subscriptions."""
from __future__ import annotations

import io
import threading
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

def test_twenty_concurrent_charges_get_the_numbers_one_to_twenty(app, companies):
    """Each thread its own session (app context), all released at once: no gap, no duplicate."""
    org_id = companies[0].org.id
    with app.app_context():
        set_up_account(org_id)
        db.session.commit()
    barrier, errors = threading.Barrier(20), []

    def charge():
        try:
            with app.app_context():
                account = db.session.scalar(sa.select(BillingAccount).where(BillingAccount.org_id == org_id))
                db.session.commit()  # the write below starts its own transaction
                barrier.wait(timeout=10)
                issue_invoice(account, lines=LINE, mail=False)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=charge) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    year = utcnow().year
    with app.app_context():
        rows = db.session.execute(sa.select(Invoice.seq, Invoice.number).order_by(Invoice.seq)).all()
    assert [seq for seq, _n in rows] == list(range(1, 21))
    assert [number for _s, number in rows] == [f"{year}-{n:06d}" for n in range(1, 21)]


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
