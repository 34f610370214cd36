"""Our invoice records: one for every charge, numbered without gaps per year, with the seller, the buyer and the
lines frozen when issued (the PDF is drawn from the record, ``invoice_pdf``).

Numbers: ``InvoiceCounter`` holds the last number per year; it is taken with the row locked in the
transaction that issues the invoice (an UPDATE … SET last = last + 1), so a rolled-back invoice gives its
number back and two concurrent charges never get the same one.

Tax (``tax.tax_for``): the seller's rate in the seller's country and for EU buyers without a valid VAT ID;
0 % with the reverse-charge note for EU buyers with one (checked again when issuing); 0 % with the
"not taxable here" note outside the EU. Staff's credit (``BillingAccount.credit_cents``) is taken off our
own invoices as a "Credit" line, under a row lock. Every billing contact is recorded as a recipient and
gets the invoice mail (outbox) in their language; amounts are shown in the reader's number format.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.billing import accounts, members
from leadthe.billing.tax import normalise_vat_id, tax_for
from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.i18n import format_locale
from leadthe.mail import customer_text, long_date, queue_mail
from leadthe.models import Organization, utcnow
from leadthe.models.billing import BillingAccount, BillingAdjustment, Invoice, InvoiceCounter, InvoiceRecipient
from leadthe.models.enums import BillingAdjustmentKind, BillingProviderKind, BillingStatus, InvoiceStatus
from leadthe.net import absolute_url
from leadthe.tenancy import unscoped

# the description of the line that takes staff's credit off an invoice (a record: stored in English, put in the
# reader's language where it is shown, ``invoice_pdf.line_text``)
CREDIT_LINE = "Credit"


def next_number(year: int) -> tuple[int, str]:
    """The next number of ``year``, taken in the current transaction (locked until it ends)."""
    db.session.execute(upsert(InvoiceCounter).values(year=year, last=0).on_conflict_do_nothing())
    seq = db.session.execute(sa.update(InvoiceCounter).where(InvoiceCounter.year == year)
                             .values(last=InvoiceCounter.last + 1).returning(InvoiceCounter.last)).scalar_one()
    return seq, f"{year}-{seq:06d}"


def buyer_of(account: BillingAccount) -> dict:
    """The company as it stands on the invoice, frozen when it is issued (a later change of address or name
    leaves the invoices already issued as they were)."""
    name = account.legal_name or db.session.scalar(unscoped(
        sa.select(Organization.name).where(Organization.id == account.org_id), reason="the buyer's company name")) or ""
    address = [line for line in (account.address_line1, account.address_line2,
                                 " ".join(p for p in (account.postcode, account.city) if p)) if line]
    vat_id, valid = normalise_vat_id(account.vat_id or "")
    return {"name": name, "address": address, "country": (account.country or "").upper(), "vat_id": vat_id,
            "vat_id_valid": valid, "purchase_order": account.purchase_order or ""}


def _line(line: dict) -> dict:
    quantity, unit = int(line.get("quantity", 1)), int(line["unit_cents"])
    amount = line.get("amount_cents")
    return {"description": " ".join(str(line["description"]).split())[:200], "quantity": quantity, "unit_cents": unit,
            "amount_cents": quantity * unit if amount is None else int(amount)}


def _amounts(lines: list[dict], rate_bp: int) -> tuple[list[dict], int, int]:
    out = [_line(line) for line in lines]
    net = sum(line["amount_cents"] for line in out)
    return out, net, tax_of(net, rate_bp)


def tax_of(net_cents: int, rate_bp: int) -> int:
    """VAT on ``net_cents`` at ``rate_bp`` basis points, rounded half up to the cent."""
    return (net_cents * rate_bp + 5000) // 10000


def _take_credit(account: BillingAccount, net: int) -> int:
    """The credit staff granted, taken off this invoice's net amount (never below zero); what is left of it
    stays for the next invoices."""
    if (account.credit_cents or 0) > 0 and account.id is not None:
        db.session.flush()  # then read the credit afresh, locked: two invoices at once never spend it twice
        db.session.refresh(account, attribute_names=["credit_cents"], with_for_update=True)
    taken = min(max(account.credit_cents or 0, 0), max(net, 0))
    account.credit_cents = (account.credit_cents or 0) - taken
    return taken


def _currency(value: str | None) -> str:
    value = (value or "EUR").strip().upper()
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValueError(f"not a currency code: {value!r}")
    return value


def issue_invoice(account: BillingAccount, *, lines: list[dict], period_start: datetime | None = None,
                  period_end: datetime | None = None, provider_invoice_id: str | None = None, paid: bool = False,
                  issued_at: datetime | None = None, amounts: dict | None = None, currency: str | None = None,
                  mail: bool = True) -> Invoice:
    """Issue an invoice to the account's company in the current transaction, and queue its mail.

    ``lines``: ``[{"description", "quantity", "unit_cents"}]`` (net; ``amount_cents`` when it is not quantity ×
    unit, e.g. prorated). Tax comes from the buyer's country and VAT ID (``tax.tax_for``; the VAT ID is checked
    again here, not taken on trust) unless the processor already charged it: then ``amounts`` gives
    ``net_cents``, ``tax_cents``, ``total_cents`` (and ``currency``) as charged. Without ``amounts`` the
    credit staff granted is taken off (a "Credit" line). Seller (``BILLING_SELLER``) and buyer are frozen.
    Addressed to the first billing contact; every billing contact is recorded as a recipient and gets the
    invoice mail in their language (``mail=False``: no mail)."""
    now = issued_at or utcnow()
    buyer = buyer_of(account)
    tax = tax_for(buyer["country"], buyer["vat_id"], buyer["vat_id_valid"])
    frozen, net, tax_cents = _priced(account, lines, amounts, tax.rate_bp)
    seq, number = next_number(now.year)
    people = members.contacts(account.org_id)
    contact = people[0] if people else None
    invoice = Invoice(
        org_id=account.org_id, number=number, year=now.year, seq=seq,
        status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN, provider=account.provider,
        provider_invoice_id=provider_invoice_id or None, issued_at=now, paid_at=now if paid else None,
        due_at=None if paid else now + timedelta(days=current_app.config["BILLING_PAYMENT_DAYS"]),
        period_start=period_start, period_end=period_end,
        currency=_currency((amounts or {}).get("currency") or currency), net_cents=net,
        tax_cents=tax_cents, total_cents=net + tax_cents, tax_rate_bp=tax.rate_bp, reverse_charge=tax.reverse_charge,
        tax_note=tax.note, seller=dict(current_app.config["BILLING_SELLER"]), buyer=buyer, lines=frozen,
        contact_user_id=contact.id if contact else None, contact_name=contact.name if contact else "",
        contact_email=contact.email if contact else None)
    db.session.add(invoice)
    db.session.flush()
    if not amounts and any(line["unit_cents"] < 0 for line in frozen):
        _mark_credits_applied(account.org_id, invoice.id)
    _send(invoice, people, mail)
    audit.record("billing.invoice_issued", org_id=account.org_id, number=number, total_cents=invoice.total_cents,
                 currency=invoice.currency)
    return invoice


def _priced(account: BillingAccount, lines: list[dict], amounts: dict | None, rate_bp: int) -> tuple[list[dict], int, int]:
    """The frozen lines, net and tax: as the processor charged them (``amounts``), or ours with the credit
    staff granted taken off."""
    frozen, net, tax_cents = _amounts(lines, rate_bp)
    if amounts:
        return frozen, int(amounts["net_cents"]), int(amounts["tax_cents"])
    credit = _take_credit(account, net)
    if credit:
        frozen.append({"description": CREDIT_LINE, "quantity": 1, "unit_cents": -credit, "amount_cents": -credit})
        net -= credit
        tax_cents = tax_of(net, rate_bp)
    return frozen, net, tax_cents


def _send(invoice: Invoice, people: list, mail: bool) -> None:
    """Record every billing contact as a recipient and (``mail``) queue the invoice mail to each."""
    for person in people:
        db.session.add(InvoiceRecipient(org_id=invoice.org_id, invoice_id=invoice.id, user_id=person.id,
                                        name=person.name, email=person.email, sent_at=invoice.issued_at))
        if mail:
            _queue_invoice_mail(invoice, person)
    db.session.flush()


def _mark_credits_applied(org_id: int, invoice_id: int) -> None:
    db.session.execute(sa.update(BillingAdjustment).where(
        BillingAdjustment.org_id == org_id, BillingAdjustment.kind == BillingAdjustmentKind.CREDIT,
        BillingAdjustment.applied_invoice_id.is_(None)).values(applied_invoice_id=invoice_id))


def money(cents: int, currency: str) -> str:
    """An amount as printed on invoices and in their mail, in the reader's language: "1,234.56 EUR" (English),
    "1.234,56 EUR" (German)."""
    amount = format_decimal(Decimal(cents) / 100, format="#,##0.00", locale=format_locale())
    return f"{amount} {currency}"


def _queue_invoice_mail(invoice: Invoice, person) -> None:
    """The invoice mail: its number in the subject (ours, never a customer's text), the total, the due date
    and our bank details when it is to be paid by transfer, and links to the billing page and the PDF."""
    base = current_app.config["SERVER_BASE_URL"].rstrip("/")
    transfer = invoice.status == InvoiceStatus.OPEN and invoice.provider == BillingProviderKind.MANUAL
    queue_mail(person.email, _l("Invoice %(number)s from LeadThe.AI", number=invoice.number), "billing_invoice",
               kind="billing_invoice", user=person, name=customer_text(person.name), number=invoice.number,
               total=_InMoney(invoice.total_cents, invoice.currency), due=long_date(invoice.due_at) if invoice.due_at else None,
               paid=invoice.status == InvoiceStatus.PAID, transfer=transfer, seller=invoice.seller,
               link=f"{base}/admin/billing", pdf=absolute_url("billing_admin.invoice_pdf", invoice_id=invoice.id))


class _InMoney:
    """An amount that becomes text when the mail is written, in the mail's language."""

    def __init__(self, cents: int, currency: str):
        self.cents, self.currency = cents, currency

    def __str__(self) -> str:
        return money(self.cents, self.currency)


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
