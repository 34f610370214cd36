"""``/admin/billing``: the company's subscription, seats, billing details, billing members and invoices.

Admins see and change everything; people with the billing permission who are not admins see the state, the
seats and the invoices, and no forms and no people data. Changes to the subscription go through
``actions.submit``: the manual provider carries them out at once, a processor in the worker while the request
page (``/admin/billing/requests/<id>``) waits for it. The page stays usable while the company is read-only
(the guard exempts it): paying again is how read-only ends.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from leadthe import audit
from leadthe.admin import admin_required
from leadthe.billing import accounts, actions, admin_bp, plans
from leadthe.billing.forms import DetailsForm, MemberForm, SeatsForm, SubscribeForm, country_choices, country_name
from leadthe.billing.members import billing_required, may_see_billing
from leadthe.billing.tax import EU_COUNTRIES, normalise_vat_id
from leadthe.auth.sessions import forget_session_fact
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.i18n import format_money
from leadthe.htmx import render, render_form, see_other
from leadthe.models import User, utcnow
from leadthe.models.billing import BillingAccount, BillingMember, BillingRequest, Invoice, Plan, PlanVersion
from leadthe.models.enums import BillingRequestKind, BillingRequestStatus, BillingStatus, Role, UserStatus
from leadthe.tenancy import get_or_404, scoped

PAGE = "billing/admin.html"
PEOPLE_IN_SELECT = 200  # a larger company chooses its billing member by e-mail address only
DETAIL_FIELDS = ("legal_name", "address_line1", "address_line2", "postcode", "city", "country", "vat_id", "purchase_order")
DONE = {
    BillingRequestKind.SUBSCRIBE: _l("Your subscription is active. The first invoice is below; please pay it by bank transfer."),
    BillingRequestKind.SEATS: _l("The number of paid seats is changed."),
    BillingRequestKind.CANCEL: _l("Your subscription ends at the end of the current period."),
    BillingRequestKind.REACTIVATE: _l("Your subscription is active again."),
    BillingRequestKind.PORTAL: _l("Your payment provider has no customer portal: invoices are listed below."),
}


@admin_bp.app_context_processor
def _billing_nav():
    return {"may_see_billing": may_see_billing}


@dataclass(frozen=True)
class Offer:
    code: str
    name: str
    description: str
    currency: str
    month_cents: int
    year_cents: int


money = format_money  # an amount in cents, in the viewer's language


def _offers() -> list[Offer]:
    """The plans offered now; before staff made any, the default plans (shown, not written on a GET)."""
    rows = plans.offered()
    if rows:
        return [Offer(plan.code, plan.name, plan.description, version.currency, version.month_cents, version.year_cents)
                for plan, version in rows]
    return [Offer(code, name, description, "EUR", month, year) for code, name, description, month, year in plans.DEFAULT_PLANS]


def _version_for(code: str) -> PlanVersion | None:
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == code, Plan.active.is_(True)))
    return plans.latest_version(plan.id) if plan else None


def _subscribe_form(offers, promised: int, formdata=None) -> SubscribeForm:
    form = SubscribeForm(prefix="sub", formdata=formdata, data={"seats": max(promised, 1)})
    form.plan.choices = [SelectChoice(offer.code, offer.name) for offer in offers]
    return form


def _details_form(account: BillingAccount, formdata=None) -> DetailsForm:
    form = DetailsForm(prefix="details", formdata=formdata, data={name: getattr(account, name) or "" for name in DETAIL_FIELDS})
    form.country.choices = country_choices()
    return form


def _people_choices(org_id: int) -> list[SelectChoice]:
    taken = sa.select(BillingMember.user_id).where(BillingMember.org_id == org_id)
    people = db.session.execute(scoped(User, org_id).where(User.status == UserStatus.ACTIVE, User.id.not_in(taken))
                                .with_only_columns(User.id, User.name, User.email).order_by(User.name, User.id)
                                .limit(PEOPLE_IN_SELECT + 1)).all()
    if len(people) > PEOPLE_IN_SELECT:
        return []
    return [SelectChoice("", _("Choose a person"))] + [SelectChoice(str(p.id), f"{p.name} ({p.email})") for p in people]


def _member_form(org_id: int, formdata=None) -> MemberForm:
    form = MemberForm(prefix="member", formdata=formdata)
    form.user_id.choices = _people_choices(org_id)
    return form


def _billing_people(org_id: int, is_admin: bool) -> list[tuple[BillingMember, User]]:
    rows = db.session.execute(scoped(BillingMember, org_id).add_columns(User)
                              .join(User, User.id == BillingMember.user_id).order_by(User.name, User.id)).all()
    return [(m, u) for m, u in rows if is_admin or u.id == current_user.id]


def _invoices(org_id: int) -> list[Invoice]:
    return list(db.session.scalars(scoped(Invoice, org_id).order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(200)))


def _plan_of(account: BillingAccount) -> tuple[Plan | None, PlanVersion | None]:
    version = db.session.get(PlanVersion, account.plan_version_id) if account.plan_version_id else None
    return (db.session.get(Plan, version.plan_id) if version else None), version


def _page(account: BillingAccount, **given) -> dict:
    org_id = account.org_id
    is_admin = current_user.role == Role.ADMIN
    now = utcnow()
    used, promised = accounts.seats_used(org_id), accounts.seats_promised(org_id, now)
    offers = _offers()
    plan, version = _plan_of(account)
    context = dict(
        account=account, plan=plan, version=version, offers=offers, is_admin=is_admin, now=now,
        used=used, promised=promised, paying=account.status in accounts.PAYING,
        read_only=accounts.is_read_only(account, now), read_only_since=accounts.read_only_since(account),
        trial_days_left=max(math.ceil((account.trial_ends_at - now).total_seconds() / 86400), 0) if account.trial_ends_at else 0,
        price=plans.price_cents(version, account.interval) if version else 0,
        people=_billing_people(org_id, is_admin), invoices=_invoices(org_id),
        pdf_endpoint="billing_admin.invoice_pdf" in current_app.view_functions,
        money=money, country_name=country_name, eu_countries=EU_COUNTRIES)
    if is_admin:
        context.update(subscribe_form=_subscribe_form(offers, promised), seats_form=SeatsForm(prefix="seats", data={"seats": account.seats}),
                       details_form=_details_form(account), member_form=_member_form(org_id),
                       button_form=EmptyForm(formdata=None))
    return {**context, **given}


def _again(account: BillingAccount, name: str, form):
    """The page again with the posted section's errors beside its fields (422)."""
    return render_form(PAGE, form, **_page(account, **{name: form}))


def _submit(kind: str, params: dict | None = None):
    """Carry out a request through the company's provider; on to its page, or back with a message when done."""
    account = accounts.account_for(current_user.org_id)
    req = actions.submit(account, current_user, kind, params)
    if req.status == BillingRequestStatus.DONE and not req.url:
        flash(str(DONE[kind]), "success")
        return see_other(url_for("billing_admin.billing"))
    return see_other(url_for("billing_admin.request", request_id=req.id))


# --- the page -------------------------------------------------------------------------------------------

@admin_bp.route("")
@billing_required
def billing():
    return render(PAGE, **_page(accounts.account_view(current_user.org_id)))


@admin_bp.route("/subscribe", methods=["POST"])
@admin_required
def subscribe():
    plans.ensure_default_plans()  # rolled back with the request if the form is refused
    account = accounts.account_view(current_user.org_id)
    promised = accounts.seats_promised(account.org_id)
    form = _subscribe_form(_offers(), promised, formdata=request.form)
    if form.validate_on_submit():
        version = _version_for(form.plan.data)
        if account.status in accounts.PAYING:
            form.plan.errors.append(_("Your company already has a subscription: change its seats below instead."))
        elif version is None:
            form.plan.errors.append(_("That plan is not offered any more: please choose another."))
        elif form.seats.data < promised:
            form.seats.errors.append(_("Your company uses %(num)s seats now (active people and open invitations): "
                                       "choose at least that many.", num=promised))
        else:
            return _submit(BillingRequestKind.SUBSCRIBE, {"plan_version_id": version.id, "interval": form.interval.data,
                                                          "seats": form.seats.data})
    return _again(account, "subscribe_form", form)


@admin_bp.route("/seats", methods=["POST"])
@admin_required
def seats():
    account = accounts.account_view(current_user.org_id)
    form = SeatsForm(prefix="seats")
    if form.validate_on_submit():
        promised = accounts.seats_promised(account.org_id)
        if account.status not in accounts.PAYING:
            form.seats.errors.append(_("Subscribe first: seats can be changed once your company has a subscription."))
        elif form.seats.data < promised:
            form.seats.errors.append(_("Your company uses %(num)s seats now (active people and open invitations): "
                                       "choose at least that many.", num=promised))
        elif form.seats.data == account.seats:
            form.seats.errors.append(_("Your company already pays for %(num)s seats.", num=account.seats))
        else:
            return _submit(BillingRequestKind.SEATS, {"seats": form.seats.data})
    return _again(account, "seats_form", form)


@admin_bp.route("/portal", methods=["POST"])
@admin_required
def portal():
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _submit(BillingRequestKind.PORTAL)


@admin_bp.route("/cancel", methods=["GET", "POST"])
@admin_required
def cancel():
    account = accounts.account_view(current_user.org_id)
    if account.status not in accounts.PAYING or account.cancel_at_period_end:
        flash(_("There is no running subscription to cancel."), "info")
        return see_other(url_for("billing_admin.billing"))
    form = EmptyForm()
    if form.validate_on_submit():
        return _submit(BillingRequestKind.CANCEL)
    return render_form("billing/admin_cancel.html", form, account=account)


@admin_bp.route("/reactivate", methods=["POST"])
@admin_required
def reactivate():
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _submit(BillingRequestKind.REACTIVATE)


# --- billing details and members ------------------------------------------------------------------------

def _vat_problem(form: DetailsForm) -> tuple[str, bool]:
    """The VAT ID to store and whether it is valid; an error beside the field when it is given but wrong."""
    vat_id, valid = normalise_vat_id(form.vat_id.data or "")
    if form.vat_id.data and not valid:
        form.vat_id.errors.append(_("This is not a valid EU VAT ID: check the country prefix and the digits "
                                    "(for example DE123456789)."))
    return vat_id, valid


@admin_bp.route("/details", methods=["POST"])
@admin_required
def details():
    account = accounts.account_view(current_user.org_id)
    form = _details_form(account, formdata=request.form)
    if form.validate_on_submit():
        vat_id, valid = _vat_problem(form)
        if not form.errors:
            account = accounts.account_for(current_user.org_id)
            values = {name: (getattr(form, name).data or "") for name in DETAIL_FIELDS}
            values.update(vat_id=vat_id, country=values["country"].upper())
            changed = sorted(name for name, value in values.items() if getattr(account, name) != value)
            for name, value in values.items():
                setattr(account, name, value)
            account.vat_id_valid, account.updated_by_id = valid, current_user.id
            db.session.flush()
            audit.record("billing.details_changed", actor=current_user, org_id=account.org_id, fields=changed)
            flash(_("Your billing details are saved. They appear on the next invoices."), "success")
            return see_other(url_for("billing_admin.billing") + "#details")
    return _again(account, "details_form", form)


def _person_for(form: MemberForm, org_id: int) -> User | None:
    """The active person of the company the form names (by e-mail or from the select), or None with an error."""
    email, chosen = (form.email.data or "").lower(), form.user_id.data
    stmt = scoped(User, org_id).where(User.status == UserStatus.ACTIVE)
    if email:
        person = db.session.scalar(stmt.where(User.email == email))
    elif chosen and str(chosen).isdigit():
        person = db.session.scalar(stmt.where(User.id == int(chosen)))
    else:
        form.email.errors.append(_("Enter the e-mail address of a person of your company, or choose one."))
        return None
    if person is None:
        form.email.errors.append(_("Nobody active in your company has that address: invite them first."))
    elif db.session.scalar(scoped(BillingMember, org_id).where(BillingMember.user_id == person.id)):
        form.email.errors.append(_("%(name)s already has the billing permission.", name=person.name))
        return None
    return person


@admin_bp.route("/members", methods=["POST"])
@admin_required
def add_member():
    account = accounts.account_view(current_user.org_id)
    form = _member_form(account.org_id, formdata=request.form)
    form.user_id.choices = form.user_id.choices or [SelectChoice("", "")]
    if form.validate_on_submit():
        person = _person_for(form, account.org_id)
        if person is not None:
            db.session.add(BillingMember(org_id=account.org_id, user_id=person.id, receives_mail=bool(form.receives_mail.data),
                                         added_by_id=current_user.id))
            db.session.flush()
            forget_session_fact("billing_member")
            audit.record("billing.member_added", actor=current_user, subject=person, org_id=account.org_id,
                         receives_mail=bool(form.receives_mail.data))
            flash(_("%(name)s now has the billing permission.", name=person.name), "success")
            return see_other(url_for("billing_admin.billing") + "#people")
    return _again(account, "member_form", form)


@admin_bp.route("/members/<int:member_id>/remove", methods=["POST"])
@admin_required
def remove_member(member_id):
    member = get_or_404(BillingMember, member_id, current_user.org_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    person = db.session.scalar(scoped(User, current_user.org_id).where(User.id == member.user_id))
    db.session.delete(member)
    db.session.flush()
    forget_session_fact("billing_member")
    audit.record("billing.member_removed", actor=current_user, subject=person, org_id=current_user.org_id)
    flash(_("%(name)s no longer has the billing permission.", name=person.name if person else ""), "success")
    return see_other(url_for("billing_admin.billing") + "#people")


# --- a request on its way, and the way back from the processor ------------------------------------------

@admin_bp.route("/requests/<int:request_id>", endpoint="request")
@admin_required
def request_page(request_id):
    req = get_or_404(BillingRequest, request_id, current_user.org_id)
    if req.status == BillingRequestStatus.DONE:
        if req.url:
            return see_other(req.url)
        flash(str(DONE.get(req.kind, DONE[BillingRequestKind.SEATS])), "success")
        return see_other(url_for("billing_admin.billing"))
    error = actions.ERRORS.get(req.error or "", actions.ERRORS["internal"]) if req.status == BillingRequestStatus.FAILED else ""
    return render("billing/admin_request.html", block="request_status", req=req, error=error)


@admin_bp.route("/return")
@admin_required
def checkout_return():
    result = request.args.get("result", "")
    account = accounts.account_view(current_user.org_id)
    return render("billing/admin_return.html", result=result if result in ("success", "cancelled") else "",
                  active=account.status == BillingStatus.ACTIVE)
