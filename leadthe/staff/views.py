from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_babel import gettext as _

from leadthe import audit
from leadthe.extensions import db
from leadthe.htmx import render_form, see_other
from leadthe.models import Organization, PrivacyRequest, User
from leadthe.privacy.erasure import report_minor
from leadthe.privacy.services import answer_request
from leadthe.query_args import page_arg
from leadthe.staff import bp, services, staff_required
from leadthe.staff.forms import AnswerForm, ReasonForm


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
    return render_template("staff/privacy_requests.html", rows=rows, total=total, show=show, page=page, per_page=50)


@bp.route("/privacy-requests/<int:request_id>", methods=["GET", "POST"])
@staff_required
def privacy_request(request_id):
    req = db.session.get(PrivacyRequest, request_id)
    if req is None:
        abort(404)
    form = AnswerForm()
    if req.status in services.OPEN_STATUSES and form.validate_on_submit():
        answer_request(req, current_user, form.response.data, form.outcome.data)
        db.session.commit()
        flash(_("Request #%(num)s answered; the requester was mailed.", num=req.id), "success")
        return see_other(url_for("staff.privacy_requests"))
    return render_form("staff/privacy_request.html", form, req=req, minor_form=ReasonForm(prefix="minor"))


@bp.route("/users/<int:user_id>/report-minor", methods=["POST"])
@staff_required
def report_minor_view(user_id):
    user = db.session.get(User, user_id)
    form = ReasonForm(prefix="minor")
    if user is None or user.is_platform_staff:
        abort(404)
    if form.validate_on_submit():
        audit.record("staff.minor_report_reason", actor=current_user, subject=user, reason=form.reason.data)
        report_minor(user, current_user)
        db.session.commit()
        flash(_("The account is locked and its erasure has started."), "success")
    return see_other(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("staff.privacy_requests"))


@bp.route("/organizations/<int:org_id>/close", methods=["POST"])
@staff_required
def close_organization(org_id):
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    form = ReasonForm()
    if form.validate_on_submit() and org.status != "closed":
        n = services.close_company(org, current_user, form.reason.data)
        db.session.commit()
        flash(_("%(company)s is closed; %(num)s people were signed out and told.", company=org.name, num=n), "success")
    return see_other(url_for("staff.privacy_requests"))
