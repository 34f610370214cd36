"""The staff billing console (``/staff/billing``, platform staff only; everyone else gets 404): companies by
state with MRR and seats, one company's billing with trial extensions and credits (a reason each, audited),
manual invoices marked paid, and plans with their price versions."""
from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from leadthe.billing import accounts, dunning, invoices, staff_bp as bp, staff_services as services
from leadthe.billing.staff_forms import CreditForm, NewPlanForm, PlanDetailsForm, PricesForm, TrialForm
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.forms import EmptyForm
from leadthe import labels
from leadthe.i18n import format_day
from leadthe.htmx import render, render_form, see_other
from leadthe.models import utcnow
from leadthe.models.enums import BillingProviderKind, BillingStatus, InvoiceStatus
from leadthe.query_args import page_arg, search_arg
from leadthe.staff import staff_required

STATE_LABELS = labels.BILLING_STATUS
STATE_BADGES = {BillingStatus.TRIALING: "info", BillingStatus.ACTIVE: "ok", BillingStatus.PAST_DUE: "warn",
                BillingStatus.CANCELLED: "err"}
PROVIDER_LABELS = labels.BILLING_PROVIDER
INVOICE_LABELS = labels.INVOICE_STATUS
NOTICE_LABELS = {"trial_7d": _l("Trial ends in 7 days"), "trial_1d": _l("Trial ends tomorrow"),
                 "payment_failed": _l("Payment failed"), "card_expiring": _l("Card expiring"),
                 "read_only": _l("Read-only for admins' changes")}
assert set(NOTICE_LABELS) == set(dunning.KINDS)


@bp.context_processor
def _labels() -> dict:
    """What every page of the console writes with: states, providers and amounts in words."""
    return {"state_labels": STATE_LABELS, "state_badges": STATE_BADGES, "provider_labels": PROVIDER_LABELS,
            "money": services.money, "now": utcnow()}


@bp.route("")
@staff_required
def companies():
    state = request.args.get("state", "")
    f = services.Filters(state=state if state in services.STATES else "",
                         q=search_arg(), page=page_arg())
    rows, total = services.companies_page(f)
    return render("billing/staff_companies.html", block="companies_results", rows=rows, total=total, f=f,
                  totals=services.totals(), per_page=services.PER_PAGE)


def _company_page(org_id: int, *, trial_form=None, credit_form=None, invalid=None):
    org = services.organization_or_404(org_id)
    account = accounts.account_view(org.id)
    plan, version = services.plan_of(account)
    forms = {"trial_form": trial_form or TrialForm(formdata=None), "credit_form": credit_form or CreditForm(formdata=None)}
    context = dict(org=org, account=account, stored=account.id is not None, plan=plan, version=version,
                   has_trial=services.has_trial(account),
                   mrr_cents=services.monthly_cents(account, version), seats_used=accounts.seats_used(org.id),
                   read_only=accounts.is_read_only(account), read_only_since=accounts.read_only_since(account),
                   invoices=services.invoices_of(org.id), adjustments=services.adjustments_of(org.id),
                   notices=services.notices_of(org.id), notice_labels=NOTICE_LABELS, invoice_labels=INVOICE_LABELS,
                   pdf_endpoint="billing_staff.invoice_pdf" in current_app.view_functions, paid_form=EmptyForm(),
                   **forms)
    if invalid is not None:
        return render_form("billing/staff_company.html", invalid, **context)
    return render("billing/staff_company.html", **context)


@bp.route("/<int:org_id>")
@staff_required
def company(org_id):
    return _company_page(org_id)


@bp.route("/<int:org_id>/trial", methods=["POST"])
@staff_required
def extend_trial(org_id):
    org = services.organization_or_404(org_id)
    form = TrialForm()
    valid = form.validate_on_submit()
    if valid and not services.has_trial(accounts.account_view(org.id)):
        form.days.errors.append(_("This company has subscribed: there is no trial to extend. Grant credit instead."))
        valid = False
    if not valid:
        return _company_page(org.id, trial_form=form, invalid=form)
    account = services.extend_trial(org.id, form.days.data, form.reason.data, actor=current_user)
    flash(_("The trial of %(company)s now ends on %(date)s.", company=org.name, date=format_day(account.trial_ends_at)),
          "success")
    return see_other(url_for("billing_staff.company", org_id=org.id))


@bp.route("/<int:org_id>/credit", methods=["POST"])
@staff_required
def credit(org_id):
    org = services.organization_or_404(org_id)
    form = CreditForm()
    if not form.validate_on_submit():
        return _company_page(org.id, credit_form=form, invalid=form)
    account = services.grant_credit(org.id, form.amount.data, form.reason.data, actor=current_user)
    flash(_("Credit granted: %(company)s now has %(amount)s of credit.", company=org.name,
            amount=services.money(account.credit_cents)), "success")
    return see_other(url_for("billing_staff.company", org_id=org.id))


@bp.route("/invoices/<int:invoice_id>/paid", methods=["POST"])
@staff_required
def mark_paid(invoice_id):
    invoice = services.invoice_or_404(invoice_id)
    back = url_for("billing_staff.company", org_id=invoice.org_id) if invoice.org_id else url_for("billing_staff.companies")
    if invoice.status != InvoiceStatus.OPEN:
        flash(_("Invoice %(number)s is not open: nothing was changed.", number=invoice.number), "info")
        return see_other(back)
    if invoice.provider != BillingProviderKind.MANUAL:
        flash(_("Invoice %(number)s is paid through Stripe: it is marked paid when Stripe tells us, not here.",
                number=invoice.number), "info")
        return see_other(back)
    if not confirmed():
        return confirmation_page(
            title=_("Mark invoice %(number)s as paid?", number=invoice.number),
            message=_("Only when the bank transfer of %(amount)s has arrived. A past-due company with nothing else overdue becomes active again.",
                      amount=services.money(invoice.total_cents, invoice.currency)),
            button=_("Mark as paid"), cancel_url=back)
    invoices.mark_paid(invoice, actor=current_user)
    flash(_("Invoice %(number)s is marked as paid.", number=invoice.number), "success")
    return see_other(back)


@bp.route("/plans", methods=["GET", "POST"])
@staff_required
def plans():
    form = NewPlanForm()
    if form.validate_on_submit():
        if services.code_taken(form.code.data):
            form.code.errors.append(_("A plan with this code exists already."))
        else:
            plan = services.create_plan(form.data, actor=current_user)
            flash(_("Plan “%(name)s” added.", name=plan.name), "success")
            return see_other(url_for("billing_staff.plans"))
    return render_form("billing/staff_plans.html", form, plans=services.plans_with_versions())


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@staff_required
def plan(plan_id):
    plan = services.plan_or_404(plan_id)
    details = PlanDetailsForm(obj=plan, formdata=None)
    prices = PricesForm(formdata=None)
    form = details
    if request.method == "POST":
        if request.form.get("part") == "prices":
            form = prices = PricesForm()
            if form.validate_on_submit():
                version = services.new_version(plan, form.month.data, form.year.data, form.note.data, actor=current_user)
                flash(_("New prices saved as version %(num)s.", num=version.version), "success")
                return see_other(url_for("billing_staff.plan", plan_id=plan.id))
        else:
            form = details = PlanDetailsForm()
            if form.validate_on_submit():
                services.update_plan(plan, form.data, actor=current_user)
                flash(_("Plan “%(name)s” saved.", name=plan.name), "success")
                return see_other(url_for("billing_staff.plan", plan_id=plan.id))
    return render_form("billing/staff_plan.html", form, plan=plan, details=details, prices=prices,
                       versions=services.versions_of(plan.id), in_use=services.versions_in_use(plan.id))
