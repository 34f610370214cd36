from flask import abort, flash, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe import audit
from leadthe.audit_chain import chain_head
from leadthe.admin import admin_required, bp
from leadthe.admin import onboarding
from leadthe.admin import works_council as council_notices
from leadthe.admin.forms import CompanySettingsForm
from leadthe.admin.services import AUDIT_PAGE, company_audit, update_company_settings
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import db, limiter
from leadthe.htmx import render, render_form, see_other
from leadthe.forms import EmptyForm
from leadthe.models import User
from leadthe.models.enums import UserStatus
from leadthe.privacy.erasure import report_minor
from leadthe.privacy.forms import ReauthForm
from leadthe.query_args import page_arg
from leadthe.support.services import feedback_summary, recent_comments
from leadthe.tenancy import get_or_404
from leadthe.trust import works_council


@bp.route("/users/<int:user_id>/report-minor", methods=["GET", "POST"])
@admin_required
@limiter.limit("20 per hour", methods=["POST"])
def report_minor_view(user_id):
    """Report someone as under 18: their account is locked and erased at once, without the grace period.
    Only for the company's active people (not the admin themself), after a confirmation page that asks
    for the password (and the code with two-step verification) every time: it cannot be undone."""
    user = get_or_404(User, user_id)  # another company's person is a 404
    if user.id == current_user.id or user.status != UserStatus.ACTIVE:
        abort(404)
    form = ReauthForm()
    if form.validate_on_submit():
        problem = confirm_identity(current_user, form.password.data, form.code.data, allow_recent=False)
        if problem:
            show_problem(form, problem)
        else:
            report_minor(user, current_user)
            db.session.flush()
            flash(_("%(name)s's account is locked and is being deleted.", name=user.name), "success")
            return see_other(url_for("admin.users"))
    return render_form("admin/report_minor.html", form, person=user)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    org = current_user.organization
    form = CompanySettingsForm(obj=org)
    form.mode_was_on = bool(org.works_council_mode)
    if form.validate_on_submit():
        changed = update_company_settings(org, current_user, {"require_2fa": form.require_2fa.data,
                                                              "leaderboard_enabled": form.leaderboard_enabled.data,
                                                              "literacy_team_figures_only": form.literacy_team_figures_only.data,
                                                              "works_council_mode": form.works_council_mode.data},
                                          reason=form.works_council_reason.data or "")
        db.session.flush()
        if "works_council_mode" in changed:
            flash(_("Works-council mode is on. Everyone in the company is told by e-mail and on their pages.")
                  if org.works_council_mode else
                  _("Works-council mode is off. Everyone in the company is told, with your reason, by e-mail and on "
                    "their pages."),
                  "success")
        else:
            flash(_("Company settings saved.") if changed else _("Nothing changed."), "success")
        return see_other(url_for("admin.settings"))
    return render_form("admin/settings.html", form, block="settings_form", mode_on=bool(org.works_council_mode),
                       changed_at=org.works_council_changed_at)


@bp.route("/audit")
@admin_required
def audit_log():
    """The company's security events, newest first: sign-ins, role changes, exports, staff access..."""
    page = page_arg()
    events, total = company_audit(current_user.org_id, page)
    return render("admin/audit.html", events=events, total=total, page=page, per_page=AUDIT_PAGE,
                  event_label=audit.event_label, details_in_words=audit.details_in_words)


@bp.route("/audit/chain-head.json")
@admin_required
def audit_chain_head():
    """The company's latest sealed audit event (sequence number and hash), to keep as its own copy: a later
    edit, removal or reordering of its audit log up to that event can then be shown."""
    response = jsonify(chain_head(current_user.org_id))
    response.headers["Content-Disposition"] = f'attachment; filename="audit-chain-head-{current_user.org_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/feedback")
@admin_required
def feedback():
    summary = feedback_summary(current_user.org_id)
    if works_council.active_for(current_user):  # a course's ratings only when at least MIN_GROUP people rated it
        summary = [row for row in summary if works_council.shown(row["count"])]
    return render("admin/feedback.html", summary=summary, comments=recent_comments(current_user.org_id))


@bp.app_context_processor
def _onboarding_context():
    # the dashboard's include (core/_onboarding.html) asks for the checklist only when it renders
    # works_council_banners: base.html's notice that works-council mode was turned on or off (issue 21)
    return {"onboarding_steps": onboarding.onboarding_steps, "works_council_banners": council_notices.banners}


@bp.route("/onboarding/dismiss", methods=["POST"])
@admin_required
def dismiss_onboarding():
    if EmptyForm().validate_on_submit():
        onboarding.dismiss(current_user.organization)
        db.session.flush()
        flash(_("The checklist is hidden. Everything in it stays in the admin area."), "info")
    return see_other(url_for("core.dashboard"))
