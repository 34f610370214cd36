"""The AI tools inventory: the admin's list and form (``/admin/ai-tools``) and everyone's page (``/ai-tools``)."""
from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from leadthe.admin import admin_required
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.literacy import admin_bp, bp, tools
from leadthe.literacy.policy_forms import AiToolForm
from leadthe.literacy.tools import STATUS_BADGES, STATUS_LABELS


def company_member_or_404() -> None:
    """People of a company only: platform staff have no company, so these pages do not exist for them."""
    if current_user.org_id is None:
        abort(404)


@bp.route("/ai-tools")
@login_required
def ai_tools():
    company_member_or_404()
    approved, forbidden = tools.tools_for_people()
    return render("literacy/ai_tools.html", approved=approved, forbidden=forbidden)


@admin_bp.route("/ai-tools", endpoint="ai_tools")
@admin_required
def ai_tools_list():
    return render("literacy/admin_ai_tools.html", rows=tools.inventory(), labels=STATUS_LABELS, badges=STATUS_BADGES,
                  action_form=EmptyForm())


def _tool_form_page(form: AiToolForm, tool=None):
    form.team_ids.choices = tools.team_choices()
    if form.validate_on_submit():
        try:
            saved = tools.save_tool(current_user, tool, form.data)
        except tools.ToolProblem as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            flash(_("“%(name)s” saved.", name=saved.name), "success")
            return see_other(url_for("literacy_admin.ai_tools"))
    return render_form("literacy/admin_ai_tool_form.html", form, block="tool_form", tool=tool,
                       departments=tools.department_values())


@admin_bp.route("/ai-tools/new", methods=["GET", "POST"])
@admin_required
def ai_tools_new():
    return _tool_form_page(AiToolForm())


@admin_bp.route("/ai-tools/<int:tool_id>", methods=["GET", "POST"])
@admin_required
def ai_tools_edit(tool_id):
    tool = tools.tool_or_404(tool_id)
    form = AiToolForm(data=tools.form_data(tool))
    return _tool_form_page(form, tool)


@admin_bp.route("/ai-tools/<int:tool_id>/delete", methods=["POST"])
@admin_required
def ai_tools_delete(tool_id):
    tool = tools.tool_or_404(tool_id)
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(
                title=_("Delete “%(name)s” from the list of AI tools?", name=tool.name),
                message=_("People no longer see it or its rules. The evidence pack lists the tools as they are when it is generated."),
                button=_("Delete the tool"), cancel_url=url_for("literacy_admin.ai_tools"))
        name = tool.name
        tools.delete_tool(current_user, tool)
        flash(_("“%(name)s” deleted.", name=name), "success")
    return see_other(url_for("literacy_admin.ai_tools"))
