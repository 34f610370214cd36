"""An acceptance of the data processing agreement as a PDF, drawn from its record on demand: both parties (our seller
details, ``BILLING_SELLER``, as on invoices; the company's legal name and address as entered at acceptance), the
accepting admin (as they were then; their role after their account's erasure), when, which version, and the
version's English text, which is the authoritative one. Labels are in the reader's language."""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from fpdf import FPDF

from leadthe.assessments.certificates import add_unicode_fonts
from leadthe.billing.invoice_pdf import address_block
from leadthe.i18n import format_day, format_when
from leadthe.labels import ROLE
from leadthe.models.dpa import DpaAcceptance, DpaVersion
from leadthe.privacy.registry import DPA_SIGNATORY as SIGNATORY

WIDTH = 180  # mm inside the margins of an A4 page


def _party_blocks(record: DpaAcceptance) -> tuple[list[str], list[str]]:
    seller = current_app.config["BILLING_SELLER"]
    processor = [_("Processor"), seller.get("name", ""), *(seller.get("address") or [])]
    if seller.get("vat_id"):
        processor.append(_("VAT ID: %(vat_id)s", vat_id=seller["vat_id"]))
    controller = [_("Controller (the customer)"), record.legal_name,
                  *[line for line in (record.address or "").splitlines() if line.strip()]]
    return processor, controller


def signatory(record: DpaAcceptance) -> str:
    role = str(ROLE.get(record.accepted_by_role, record.accepted_by_role))
    if not record.accepted_by_name or record.accepted_by_name == SIGNATORY:
        return _("%(role)s (the name was removed when the account was erased)", role=role)
    if record.accepted_by_email:
        return f"{record.accepted_by_name} <{record.accepted_by_email}> ({role})"
    return f"{record.accepted_by_name} ({role})"


def _facts(record: DpaAcceptance, doc: DpaVersion) -> list[tuple[str, str]]:
    return [(_("Version"), _("Version %(num)s, published on %(date)s", num=doc.version, date=format_day(doc.published_at))),
            (_("Accepted by"), signatory(record)),
            (_("Accepted on"), f"{format_when(record.accepted_at)} UTC"),
            (_("Record number"), str(record.id))]


def _plain(text: str) -> str:
    """Markdown emphasis and code marks left out (the PDF prints the words)."""
    return re.sub(r"(\*\*|__|`)", "", text)


def _body(pdf: FPDF, markdown: str) -> None:
    paragraph: list[str] = []

    def flush():
        if paragraph:
            pdf.set_font("OpenSans", "", 9)
            pdf.multi_cell(WIDTH, 4.5, _plain(" ".join(paragraph)), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
            paragraph.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            pdf.ln(1)
            pdf.set_font("OpenSans", "B", 10)
            pdf.multi_cell(WIDTH, 5, _plain(stripped.lstrip("#").strip()), new_x="LMARGIN", new_y="NEXT")
        elif stripped[:2] in ("- ", "* "):
            flush()
            paragraph.append("• " + stripped[2:])
        else:
            paragraph.append(stripped)
    flush()


def acceptance_pdf(record: DpaAcceptance, doc: DpaVersion) -> bytes:
    """The acceptance record as an A4 PDF (the same record gives the same bytes)."""
    processor, controller = _party_blocks(record)
    facts = _facts(record, doc)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_("Data processing agreement: acceptance"))
    pdf.set_author(current_app.config["BILLING_SELLER"].get("name", ""))
    pdf.set_creator("LeadThe.AI")
    pdf.set_creation_date(record.accepted_at)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    add_unicode_fonts(pdf, *processor, *controller, *(value for _label, value in facts), doc.body_en)
    pdf.add_page()
    pdf.set_font("OpenSans", "B", 18)
    pdf.multi_cell(WIDTH, 9, _("Data processing agreement: acceptance"), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    bottom = max(address_block(pdf, controller, 15, top, 85), address_block(pdf, processor, 110, top, 85))
    pdf.set_y(bottom + 6)
    for label, value in facts:
        pdf.set_font("OpenSans", "B", 10)
        pdf.cell(40, 6, label)
        pdf.set_font("OpenSans", "", 10)
        pdf.multi_cell(WIDTH - 40, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("OpenSans", "", 10)
    pdf.multi_cell(WIDTH, 5, _("%(controller)s accepted the data processing agreement below, version %(num)s, with "
                              "%(processor)s through the LeadThe.AI platform. The English text is the authoritative "
                              "one.", controller=record.legal_name, num=doc.version,
                              processor=current_app.config["BILLING_SELLER"].get("name", "")),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("OpenSans", "B", 13)
    pdf.cell(WIDTH, 8, _("Data processing agreement, version %(num)s", num=doc.version), new_x="LMARGIN", new_y="NEXT")
    _body(pdf, doc.body_en)
    return bytes(pdf.output())
