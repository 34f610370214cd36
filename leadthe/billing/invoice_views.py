"""The invoice PDFs, for the company (admins, billing members) and for staff (issue 20, invoices part).

The PDF is drawn from the invoice record on each download (``invoice_pdf``); it is personal and business
data, so it is never kept by shared caches.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort

from leadthe.billing import admin_bp, renewals, staff_bp
from leadthe.billing.invoice_pdf import invoice_pdf as draw_pdf
from leadthe.billing.members import billing_required
from leadthe.extensions import db
from leadthe.models.billing import Invoice
from leadthe.query_args import id_or_404
from leadthe.staff import staff_required
from leadthe.tenancy import get_or_404, unscoped

# ``renewals`` registers the daily worker job "billing.renewals" when imported (create_app imports this module)
__all__ = ["invoice_pdf", "invoice_pdf_staff", "renewals"]


def _download(invoice: Invoice) -> Response:
    return Response(draw_pdf(invoice), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"',
        "Cache-Control": "private, no-store"})


@admin_bp.route("/invoices/<int:invoice_id>.pdf")
@billing_required
def invoice_pdf(invoice_id: int):
    """One of the company's invoices (another company's: 404)."""
    return _download(get_or_404(Invoice, invoice_id))


@staff_bp.route("/invoices/<int:invoice_id>.pdf", endpoint="invoice_pdf")
@staff_required
def invoice_pdf_staff(invoice_id: int):
    """Any company's invoice, also one of a company that has left (its ``org_id`` is then NULL)."""
    invoice = db.session.scalar(unscoped(sa.select(Invoice).where(Invoice.id == id_or_404(invoice_id)),
                                         reason="staff download any company's invoice, also of companies that left"))
    if invoice is None:
        abort(404)
    return _download(invoice)
