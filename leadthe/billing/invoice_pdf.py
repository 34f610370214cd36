"""The PDF of an invoice, drawn from its record on demand.

The record (``Invoice``: seller, buyer and lines frozen when it was issued, the amounts, the tax note) is the
archive kept for ten years; the PDF is not stored. Drawing it again from the same record gives the same
bytes (the PDF's creation date is the invoice's issue date), in the language of whoever downloads it: the
labels are translated, the record's content is printed as it was issued.

After the billing contact it is addressed to has been erased, the record names their role ("Billing
contact", ``privacy.registry.BILLING_CONTACT``), and so does the PDF.
"""
from __future__ import annotations

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from leadthe.assessments.certificates import add_unicode_fonts
from leadthe.billing.invoices import CREDIT_LINE, money
from leadthe.i18n import format_day, format_percent
from leadthe.models.billing import Invoice
from leadthe.models.enums import BillingProviderKind, InvoiceStatus
from leadthe.privacy.registry import BILLING_CONTACT

WIDTH = 180  # A4 minus 15 mm margins


def tax_note(invoice: Invoice) -> str:
    """The tax note's code put in words."""
    if invoice.tax_note == "reverse_charge":
        return _("Reverse charge: VAT to be accounted for by the recipient (Art. 196 Council Directive 2006/112/EC).")
    if invoice.tax_note == "outside_eu":
        return _("Not taxable in Germany: the service is supplied to a recipient outside the European Union.")
    return ""


def line_text(description: str) -> str:
    return _("Credit applied") if description == CREDIT_LINE else description


def contact_text(invoice: Invoice) -> str:
    """"For the attention of" whom: the contact's name, or their role after their erasure (or when none)."""
    name = invoice.contact_name
    if not name or name == BILLING_CONTACT:
        return _("Billing contact")
    return name


def _party(invoice: Invoice, party: dict, heading: str, *extra: str) -> list[str]:
    rows = [heading, party.get("name") or "", *(party.get("address") or [])]
    if party.get("country") and party is invoice.buyer:
        rows.append(party["country"])
    if party.get("vat_id"):
        rows.append(_("VAT ID: %(vat_id)s", vat_id=party["vat_id"]))
    return rows + [row for row in extra if row]


def _facts(invoice: Invoice) -> list[tuple[str, str]]:
    facts = [(_("Invoice number"), invoice.number), (_("Issue date"), format_day(invoice.issued_at))]
    if invoice.period_start and invoice.period_end:
        facts.append((_("Period"), f"{format_day(invoice.period_start)} – {format_day(invoice.period_end)}"))
    if invoice.status == InvoiceStatus.PAID and invoice.paid_at:
        facts.append((_("Paid on"), format_day(invoice.paid_at)))
    elif invoice.status == InvoiceStatus.VOID:
        facts.append((_("Status"), _("Voided")))
    elif invoice.due_at:
        facts.append((_("Due date"), format_day(invoice.due_at)))
    if (invoice.buyer or {}).get("purchase_order"):
        facts.append((_("Your reference"), invoice.buyer["purchase_order"]))
    if invoice.provider_invoice_id:
        facts.append((_("Payment processor's invoice"), invoice.provider_invoice_id))
    facts.append((_("Currency"), invoice.currency))
    return facts


def _totals(invoice: Invoice) -> list[tuple[str, str]]:
    rate = format_percent(invoice.tax_rate_bp / 100)
    return [(_("Net amount"), money(invoice.net_cents, invoice.currency)),
            (_("VAT %(rate)s", rate=rate), money(invoice.tax_cents, invoice.currency)),
            (_("Total amount"), money(invoice.total_cents, invoice.currency))]


def _bank(invoice: Invoice) -> list[str]:
    """Where to pay: for an open invoice paid by bank transfer (manual invoicing)."""
    if invoice.status != InvoiceStatus.OPEN or invoice.provider != BillingProviderKind.MANUAL:
        return []
    seller = invoice.seller or {}
    return [_("Please transfer the total by the due date, quoting the invoice number, to:"),
            _("Account holder: %(name)s", name=seller.get("name", "")),
            f"IBAN: {seller.get('iban', '')}", f"BIC: {seller.get('bic', '')}"]


def address_block(pdf: FPDF, rows: list[str], x: float, y: float, width: float) -> float:
    """A party's block (a small bold heading, then its lines) at (x, y); returns where it ends. The DPA record uses it too."""
    pdf.set_xy(x, y)
    for i, row in enumerate(rows):
        pdf.set_font("OpenSans", "B" if i < 1 else "", 8 if i < 1 else 10)
        pdf.set_x(x)
        pdf.multi_cell(width, 5, row, new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y()


def _lines_table(pdf: FPDF, invoice: Invoice) -> None:
    with pdf.table(col_widths=(10, 2, 3, 3), line_height=6, headings_style=FontFace(emphasis="B"),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")) as table:
        table.row([_("Description"), _("Quantity"), _("Unit price"), _("Amount")])
        for line in invoice.lines or []:
            table.row([line_text(line["description"]), str(line["quantity"]), money(line["unit_cents"], invoice.currency),
                       money(line["amount_cents"], invoice.currency)])


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]], x: float, label_width: float, value_width: float, bold_last=False) -> None:
    for i, (label, value) in enumerate(pairs):
        pdf.set_x(x)
        pdf.set_font("OpenSans", "B" if bold_last and i == len(pairs) - 1 else "", 10)
        pdf.cell(label_width, 6, label)
        pdf.cell(value_width, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as an A4 PDF (labels in the current language; the same record gives the same bytes)."""
    seller = _party(invoice, invoice.seller or {}, _("From"))
    buyer = _party(invoice, invoice.buyer or {}, _("To"),
                   _("For the attention of: %(name)s", name=contact_text(invoice)))
    texts = [*seller, *buyer, *(line["description"] for line in invoice.lines or [])]
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_("Invoice %(number)s", number=invoice.number))
    pdf.set_author((invoice.seller or {}).get("name", ""))
    pdf.set_creator("LeadThe.AI")
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    add_unicode_fonts(pdf, *texts)
    pdf.add_page()
    pdf.set_font("OpenSans", "B", 20)
    pdf.cell(WIDTH, 10, _("Invoice"), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    bottom = max(address_block(pdf, buyer, 15, top, 95), address_block(pdf, seller, 120, top, 75))
    pdf.set_y(bottom + 6)
    _pairs(pdf, _facts(invoice), 15, 60, 60)
    pdf.ln(6)
    pdf.set_font("OpenSans", "", 10)
    _lines_table(pdf, invoice)
    pdf.ln(4)
    _pairs(pdf, _totals(invoice), 95, 50, 50, bold_last=True)
    pdf.ln(6)
    pdf.set_font("OpenSans", "", 10)
    for paragraph in [tax_note(invoice), *_bank(invoice)]:
        if paragraph:
            pdf.multi_cell(WIDTH, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
