from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_babel import gettext as _, ngettext

from leadthe import audit
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import db, limiter
from leadthe.htmx import render, render_form, see_other
from leadthe.models import Organization, PrivacyRequest, User
from leadthe.models.enums import OrgStatus, UserStatus
from leadthe.models.privacy import REQUEST_KINDS
from leadthe.privacy import labels
from leadthe.privacy.erasure import report_minor
from leadthe.privacy.services import answer_request
from leadthe.query_args import page_arg
from leadthe.staff import bp, services, staff_required
from leadthe.staff.forms import AnswerForm, ConfirmedReasonForm
from leadthe.trust import holds


@bp.route("")
@staff_required
def index():
    return redirect(url_for("staff.console"))


@bp.route("/privacy-requests")
@staff_required
def privacy_requests():
    show = "all" if request.args.get("show") == "all" else "open"
    page = page_arg()
    rows, total = services.privacy_queue(show, page)
    return render("staff/privacy_requests.html", rows=rows, total=total, show=show, page=page, per_page=50,
                  request_kinds=REQUEST_KINDS, request_status=labels.request_status,
                  held=holds.held_people_ids(r.user_id for r in rows), active_holds=holds.active_count())


@bp.route("/privacy-requests/<int:request_id>", methods=["GET", "POST"])
@staff_required
def privacy_request(request_id):
    req = db.get_or_404(PrivacyRequest, request_id)
    form = AnswerForm()
    if req.status in services.OPEN_STATUSES and form.validate_on_submit():
        answer_request(req, current_user, form.response.data, form.outcome.data)
        db.session.flush()
        flash(_("Request #%(num)s answered; the requester was mailed.", num=req.id), "success")
        return see_other(url_for("staff.privacy_requests"))
    return render_form("staff/privacy_request.html", form, req=req, request_kinds=REQUEST_KINDS,
                       request_status=labels.request_status)


def _confirmed(form) -> bool:
    """The form is complete and the staff member proved it is them: password and code, every time."""
    if not form.validate_on_submit():
        return False
    problem = confirm_identity(current_user, form.password.data, form.code.data, allow_recent=False)
    if problem:
        show_problem(form, problem)
        return False
    return True


@bp.route("/users/<int:user_id>/report-minor", methods=["GET", "POST"])
@staff_required
@limiter.limit("20 per hour", methods=["POST"])
def report_minor_view(user_id):
    """Lock and erase at once an active company account reported as under 18 (a confirmation page first)."""
    user = db.session.get(User, user_id)
    if user is None or user.is_platform_staff or user.org_id is None or user.status != UserStatus.ACTIVE:
        abort(404)
    form = ConfirmedReasonForm()
    if _confirmed(form):
        audit.record("staff.minor_report_reason", actor=current_user, subject=user, reason=form.reason.data)
        report_minor(user, current_user)
        db.session.flush()
        flash(_("The account is locked and its erasure has started."), "success")
        return see_other(url_for("staff.privacy_requests"))
    return render_form("staff/report_minor.html", form, person=user)


@bp.route("/organizations/<int:org_id>/close", methods=["GET", "POST"])
@staff_required
@limiter.limit("20 per hour", methods=["POST"])
def close_organization(org_id):
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    if org.status == OrgStatus.CLOSED:
        flash(_("%(company)s is already closed.", company=org.name), "info")
        return see_other(url_for("staff.console"))
    form = ConfirmedReasonForm()
    if _confirmed(form):
        n = services.close_company(org, current_user, form.reason.data)
        db.session.flush()
        flash(ngettext("%(company)s is closed; %(num)s person was signed out and told.",
                       "%(company)s is closed; %(num)s people were signed out and told.", n, company=org.name), "success")
        return see_other(url_for("staff.console"))
    return render_form("staff/close_organization.html", form, org=org)
