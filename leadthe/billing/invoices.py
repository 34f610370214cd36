"""Our invoice records: one for every charge, numbered without gaps per year, with the seller, the buyer and the
lines frozen when issued (the PDF is drawn from the record, ``invoice_pdf``).

Numbers: ``InvoiceCounter`` holds the last number per year; it is taken with the row locked in the
transaction that issues the invoice (an UPDATE … SET last = last + 1), so a rolled-back invoice gives its
number back and two concurrent charges never get the same one.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from leadthe import audit
from leadthe.billing import accounts, members
from leadthe.billing.tax import tax_for
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.models import Organization, utcnow
from leadthe.models.billing import BillingAccount, Invoice, InvoiceCounter, InvoiceRecipient
from leadthe.models.enums import BillingStatus, InvoiceStatus
from leadthe.tenancy import unscoped


def next_number(year: int) -> tuple[int, str]:
    """The next number of ``year``, taken in the current transaction (locked until it ends)."""
    db.session.execute(upsert(InvoiceCounter).values(year=year, last=0).on_conflict_do_nothing())
    seq = db.session.execute(sa.update(InvoiceCounter).where(InvoiceCounter.year == year)
                             .values(last=InvoiceCounter.last + 1).returning(InvoiceCounter.last)).scalar_one()
    return seq, f"{year}-{seq:06d}"


def buyer_of(account: BillingAccount) -> dict:
    name = account.legal_name or db.session.scalar(unscoped(
        sa.select(Organization.name).where(Organization.id == account.org_id), reason="the buyer's company name")) or ""
    address = [line for line in (account.address_line1, account.address_line2,
                                 " ".join(p for p in (account.postcode, account.city) if p)) if line]
    return {"name": name, "address": address, "country": account.country, "vat_id": account.vat_id,
            "vat_id_valid": bool(account.vat_id_valid), "purchase_order": account.purchase_order}


def _amounts(lines: list[dict], rate_bp: int) -> tuple[list[dict], int, int]:
    out = []
    for line in lines:
        quantity, unit = int(line.get("quantity", 1)), int(line["unit_cents"])
        out.append({"description": str(line["description"]), "quantity": quantity, "unit_cents": unit,
                    "amount_cents": int(line.get("amount_cents", quantity * unit))})
    net = sum(line["amount_cents"] for line in out)
    return out, net, (net * rate_bp + 5000) // 10000  # rounded half up to the cent


def issue_invoice(account: BillingAccount, *, lines: list[dict], period_start: datetime | None = None,
                  period_end: datetime | None = None, provider_invoice_id: str | None = None, paid: bool = False,
                  issued_at: datetime | None = None, amounts: dict | None = None) -> Invoice:
    """Issue an invoice to the account's company in the current transaction.

    ``lines``: ``[{"description", "quantity", "unit_cents"}]`` (net; ``amount_cents`` when it is not quantity ×
    unit, e.g. prorated). Tax comes from the buyer's country and VAT ID unless the processor already charged
    it: then ``amounts`` gives ``net_cents``, ``tax_cents``, ``total_cents`` as charged. Addressed to the first
    billing contact; every billing contact is recorded as a recipient (the mail is ``dunning``'s to send)."""
    now = issued_at or utcnow()
    tax = tax_for(account.country, account.vat_id, account.vat_id_valid)
    frozen, net, tax_cents = _amounts(lines, tax.rate_bp)
    if amounts:
        net, tax_cents = int(amounts["net_cents"]), int(amounts["tax_cents"])
    seq, number = next_number(now.year)
    people = members.contacts(account.org_id)
    contact = people[0] if people else None
    currency = (amounts or {}).get("currency") or "EUR"
    invoice = Invoice(
        org_id=account.org_id, number=number, year=now.year, seq=seq,
        status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN, provider=account.provider,
        provider_invoice_id=provider_invoice_id, issued_at=now, paid_at=now if paid else None,
        due_at=None if paid else now + timedelta(days=current_app.config["BILLING_PAYMENT_DAYS"]),
        period_start=period_start, period_end=period_end, currency=currency.upper(), net_cents=net,
        tax_cents=tax_cents, total_cents=net + tax_cents, tax_rate_bp=tax.rate_bp, reverse_charge=tax.reverse_charge,
        tax_note=tax.note, seller=dict(current_app.config["BILLING_SELLER"]), buyer=buyer_of(account), lines=frozen,
        contact_user_id=contact.id if contact else None, contact_name=contact.name if contact else "",
        contact_email=contact.email if contact else None)
    db.session.add(invoice)
    db.session.flush()
    for person in people:
        db.session.add(InvoiceRecipient(org_id=account.org_id, invoice_id=invoice.id, user_id=person.id,
                                        name=person.name, email=person.email, sent_at=now))
    db.session.flush()
    return invoice


def mark_paid(invoice: Invoice, *, actor=None, when: datetime | None = None) -> bool:
    """Record that an open invoice was paid (staff, for bank transfers; the processor's webhook for cards); False
    when it was not open. A past-due account with nothing else overdue is active again."""
    if invoice.status != InvoiceStatus.OPEN:
        return False
    invoice.status, invoice.paid_at = InvoiceStatus.PAID, when or utcnow()
    db.session.flush()
    audit.record("billing.invoice_paid", actor=actor, org_id=invoice.org_id, number=invoice.number)
    if invoice.org_id is None:
        return True
    account = accounts.account_for(invoice.org_id)
    overdue = db.session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(
        Invoice.org_id == invoice.org_id, Invoice.status == InvoiceStatus.OPEN, Invoice.due_at <= utcnow()))
    if account.status == BillingStatus.PAST_DUE and not overdue:
        accounts.set_status(account, BillingStatus.ACTIVE, actor=actor, reason="invoice paid")
    return True
