"""The AI-use policy: everyone's page with the acknowledgement (``/ai-policy``), and the admin's editor,
preview, publication and version pages (``/admin/ai-policy``)."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from leadthe.admin import admin_required
from leadthe.confirmation import confirmation_page, confirmed
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other, wants_fragment
from leadthe.literacy import admin_bp, bp, policy
from leadthe.literacy.policy import CHANGE_LABELS
from leadthe.literacy.policy_forms import AiPolicyForm
from leadthe.literacy.tools_views import company_member_or_404
from leadthe.models.enums import PolicyChange


@bp.route("/ai-policy", methods=["GET", "POST"])
@login_required
def ai_policy():
    company_member_or_404()
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        recorded = policy.acknowledge(current_user)
        if not wants_fragment():
            if recorded:
                flash(_("Thank you: your acknowledgement is recorded."), "success")
            return see_other(url_for("literacy.ai_policy"))
    return render("literacy/ai_policy.html", block="ai_policy_ack", current=policy.current_version(),
                  versions=policy.history(), mine=policy.own_acknowledgements(current_user),
                  pending=policy.pending_for(current_user), form=form, changes=CHANGE_LABELS)


def _editor_form() -> AiPolicyForm:
    """The editor filled with the draft, else the current version to change, else the starter template
    (also on request, ``?template=1``), in the admin's language."""
    draft = policy.draft_of()
    if request.method == "POST":
        return AiPolicyForm()
    if request.args.get("template") != "1":
        if draft is not None:
            return AiPolicyForm(data={"title": draft.title, "body_md": draft.body_md, "summary": draft.summary,
                                      "change": draft.change})
        current = policy.current_version()
        if current is not None:
            return AiPolicyForm(data={"title": current.title, "body_md": current.body_md, "change": PolicyChange.MINOR})
    title, body = policy.starter(str(get_locale()))
    return AiPolicyForm(data={"title": title, "body_md": body, "change": PolicyChange.MATERIAL,
                              "summary": _("First version.")})


@admin_bp.route("/ai-policy", methods=["GET", "POST"], endpoint="ai_policy")
@admin_required
def ai_policy_editor():
    form = _editor_form()
    if form.validate_on_submit():
        draft = policy.save_draft(current_user, form.data)
        flash(_("Draft saved. Check it here before you publish it."), "success")
        return see_other(url_for("literacy_admin.ai_policy_preview", draft_id=draft.id))
    return render_form("literacy/admin_ai_policy.html", form, current=policy.current_version(), versions=policy.history(),
                       draft=policy.draft_of(), changes=CHANGE_LABELS)


def _draft_or_404(draft_id=None):
    """The company's draft (the one with this id, when given), or 404."""
    draft = policy.draft_of()
    if draft is None or (draft_id is not None and draft.id != draft_id):
        abort(404)
    return draft


@admin_bp.route("/ai-policy/drafts/<int:draft_id>")
@admin_required
def ai_policy_preview(draft_id):
    draft = _draft_or_404(draft_id)
    current = policy.current_version()
    return render("literacy/admin_ai_policy_preview.html", draft=draft, next_number=(current.version if current else 0) + 1,
                  changes=CHANGE_LABELS, form=EmptyForm())


@admin_bp.route("/ai-policy/publish", methods=["POST"])
@admin_required
def ai_policy_publish():
    draft = _draft_or_404()
    if not EmptyForm().validate_on_submit():
        return see_other(url_for("literacy_admin.ai_policy_preview", draft_id=draft.id))
    material = draft.change == PolicyChange.MATERIAL
    if not confirmed():
        return confirmation_page(
            title=_("Publish this version of the AI-use policy?"),
            message=_("Everyone in your company will be asked to read and acknowledge it, by a notice and an e-mail.")
            if material else _("It becomes the current version at once. Nobody is asked to acknowledge a minor change."),
            button=_("Publish"), cancel_url=url_for("literacy_admin.ai_policy_preview", draft_id=draft.id))
    version, asked = policy.publish(current_user, draft)
    if material:
        flash(_("Version %(n)s published. %(count)s people are asked to acknowledge it.", n=version.version, count=asked), "success")
    else:
        flash(_("Version %(n)s published as a minor change.", n=version.version), "success")
    return see_other(url_for("literacy_admin.ai_policy"))


@admin_bp.route("/ai-policy/versions/<int:version_id>")
@admin_required
def ai_policy_version(version_id):
    version = policy.version_or_404(version_id)
    asked, acknowledged = policy.figures_of(version)
    return render("literacy/admin_ai_policy_version.html", version=version, asked=asked, acknowledged=acknowledged,
                  changes=CHANGE_LABELS)
