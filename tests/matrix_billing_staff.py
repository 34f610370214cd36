"""The route matrix's entries for the billing staff routes (issue 20); see tests/test_route_matrix.py for what each
key means. ``build`` adds what the entries need to the world, ``RESOLVERS`` turn it into URL values, and
``sweep_values`` gives the pages that open every page (tests/helpers.every_page_data_set) their URL values.

Staff see every company's billing (``cross``): company B's account, invoice and the plans are theirs to open too;
everyone else gets 404, as for the whole staff area."""
from __future__ import annotations

MATRIX: dict[str, dict] = {
    "billing_staff.companies": {"auth": "staff"},
    "billing_staff.company": {"auth": "staff", "obj": "billing_company", "cross": True},
    # an empty POST: no days or amount and no reason: the company's page again with the errors
    "billing_staff.extend_trial": {"auth": "staff", "obj": "billing_company", "cross": True, "post": {"staff": 422}},
    "billing_staff.credit": {"auth": "staff", "obj": "billing_company", "cross": True, "post": {"staff": 422}},
    # an open manual invoice: a POST without the confirmation answers the confirmation page
    "billing_staff.mark_paid": {"auth": "staff", "obj": "billing_invoice", "cross": True, "post": {"staff": 200}},
    "billing_staff.plans": {"auth": "staff", "post": {"staff": 422}},
    "billing_staff.plan": {"auth": "staff", "obj": "billing_plan", "cross": True, "post": {"staff": 422}},
}


def _pair(prefix: str, arg: str):
    def resolve(w, role, which):
        if which == "sibling":
            return None
        return {arg: w.ids[f"{prefix}_{'a' if which == 'own' else 'b'}"]}
    return resolve


RESOLVERS: dict = {
    "billing_company": _pair("org", "org_id"),
    "billing_invoice": _pair("billing_staff_invoice", "invoice_id"),
    "billing_plan": _pair("billing_staff_plan", "plan_id"),
}


def _open_invoice(org_id: int) -> int:
    from leadthe.billing import accounts, invoices

    account = accounts.account_for(org_id)
    invoice = invoices.issue_invoice(account, lines=[{"description": "Team, 3 seats", "quantity": 3, "unit_cents": 800}])
    return invoice.id


def build(w, app, companies) -> None:
    """An open manual invoice of each company (what staff mark paid), and the default plans."""
    import sqlalchemy as sa

    from leadthe.billing import plans
    from leadthe.extensions import db
    from leadthe.models.billing import Plan

    with app.app_context():
        plans.ensure_default_plans()
        ids = db.session.scalars(sa.select(Plan.id).order_by(Plan.position, Plan.id)).all()
        w.ids["billing_staff_plan_a"], w.ids["billing_staff_plan_b"] = ids[0], ids[-1]
        for tag, company in zip(("a", "b"), companies):
            w.ids[f"billing_staff_invoice_{tag}"] = _open_invoice(company.org.id)
        db.session.commit()


def sweep_values(org_id: int, admin, staff) -> dict[str, str]:
    """URL values for the demo company (inside every_page_data_set's request context): the company itself and a
    plan. ``/staff/billing/invoices/<invoice_id>/paid`` takes only POSTs, so no invoice is made here (the company's
    page lists the invoices the other parts made, with their "bank transfer received" buttons)."""
    import sqlalchemy as sa

    from leadthe.billing import plans
    from leadthe.extensions import db
    from leadthe.models.billing import Plan

    plans.ensure_default_plans()
    plan_id = db.session.scalar(sa.select(Plan.id).order_by(Plan.position, Plan.id).limit(1))
    return {"org_id": str(org_id), "plan_id": str(plan_id)}
