"""Requirements by role (org admins; managers 403): the rules, the rule form with a preview of whom it
covers, activation and deletion. Every write applies the rules at once (leadthe.literacy.rules)."""
from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.assessments.assignments import assignable_courses
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.literacy import admin_bp
from leadthe.literacy import requirements as services
from leadthe.literacy.requirements_forms import RuleForm



def _kept() -> str:
    return _("People it alone covered no longer have the course as a requirement. What they completed stays theirs: "
             "certificates and progress are kept.")


@admin_bp.route("/requirements")
@admin_required
def requirements():
    return render("literacy/requirements.html", rows=services.rules_page(current_user.org_id), action_form=EmptyForm())


def _form() -> RuleForm:
    form = RuleForm()
    form.course_id.choices = {"": _("Choose a course")} | {str(i): t for i, t in assignable_courses(current_user)}
    form.team_id.choices = {"": _("Choose a team")} | services.team_choices(current_user.org_id)
    return form


def _form_page(form, rule=None):
    title = _("Change the rule") if rule else _("Add a requirement rule")
    context = dict(rule=rule, title=title, action_form=EmptyForm())
    if request.method == "POST" and request.form.get("preview"):
        # a preview changes nothing: under htmx the sentence alone, without JavaScript the page with it
        return render("literacy/requirement_form.html", block="rule_preview", form=form,
                      preview=services.preview_count(current_user.org_id, form), **context)
    return render_form("literacy/requirement_form.html", form, preview=services.preview_count(current_user.org_id, form), **context)


def _saved(rule):
    covered = services.count_covered(current_user.org_id, rule) if rule.active else 0
    flash(ngettext("Rule saved. It covers %(num)s person now.", "Rule saved. It covers %(num)s people now.", covered), "success")
    return see_other(url_for("literacy_admin.requirements"))


@admin_bp.route("/requirements/new", methods=["GET", "POST"])
@admin_required
def requirements_new():
    form = _form()
    if not request.form.get("preview") and form.validate_on_submit():
        rule = services.create_rule(current_user, form)
        db.session.flush()
        return _saved(rule)
    return _form_page(form)


@admin_bp.route("/requirements/<int:rule_id>", methods=["GET", "POST"])
@admin_required
def requirements_edit(rule_id):
    rule = services.rule_or_404(rule_id)
    form = _form()
    if request.method == "GET":
        services.fill_form(form, rule)
    elif not request.form.get("preview") and form.validate_on_submit():
        services.update_rule(current_user, rule, form)
        db.session.flush()
        return _saved(rule)
    return _form_page(form, rule)


@admin_bp.route("/requirements/<int:rule_id>/active", methods=["POST"])
@admin_required
def requirements_active(rule_id):
    rule = services.rule_or_404(rule_id)
    if EmptyForm().validate_on_submit():
        active = request.form.get("active") == "1"
        if not active and not confirmed():
            return confirmation_page(title=_("Deactivate this rule?"), message=_kept(), button=_("Deactivate"),
                                     cancel_url=url_for("literacy_admin.requirements"))
        services.set_active(current_user, rule, active)
        db.session.flush()
        flash(_("Rule activated.") if active else _("Rule deactivated. What people completed is kept."), "success")
    return see_other(url_for("literacy_admin.requirements"))


@admin_bp.route("/requirements/<int:rule_id>/delete", methods=["POST"])
@admin_required
def requirements_delete(rule_id):
    rule = services.rule_or_404(rule_id)
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(title=_("Delete this rule?"), message=_kept(), button=_("Delete the rule"),
                                     cancel_url=url_for("literacy_admin.requirements_edit", rule_id=rule.id))
        services.delete_rule(current_user, rule)
        db.session.flush()
        flash(_("Rule deleted. What people completed is kept."), "success")
    return see_other(url_for("literacy_admin.requirements"))
