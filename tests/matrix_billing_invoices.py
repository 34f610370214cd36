"""The route matrix's entries for the billing invoices routes (issue 20); see tests/test_route_matrix.py for what each
key means. ``build`` issues an invoice to company A and one to company B, ``RESOLVERS`` turn them into URL values,
and ``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    # the company's invoice PDF: admins and billing members; another company's invoice is 404
    "billing_admin.invoice_pdf": {"auth": "admin", "obj": "invoice"},
    # staff download any company's invoice PDF (also of a company that has left)
    "billing_staff.invoice_pdf": {"auth": "staff", "obj": "invoice", "cross": True},
}


def _invoice(w, role, which):
    if which == "sibling":
        return None
    return {"invoice_id": w.ids["invoice_a" if which == "own" else "invoice_b"]}


RESOLVERS: dict = {"invoice": _invoice}

LINE = [{"description": "LeadThe.AI Team, per seat and month", "quantity": 5, "unit_cents": 800}]


def _issue(org_id: int) -> int:
    from leadthe.billing import accounts
    from leadthe.billing.invoices import issue_invoice

    return issue_invoice(accounts.account_for(org_id), lines=LINE, mail=False).id


def build(w, app, companies) -> None:
    from leadthe.extensions import db

    with app.app_context():
        for tag, company in zip(("a", "b"), companies):
            w.ids[f"invoice_{tag}"] = _issue(company.org.id)
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): an invoice of it, whose
    PDF both routes download (they are downloads, not HTML pages: the sweep's NOT_HTML)."""
    return {"invoice_id": str(_issue(org_id))}
