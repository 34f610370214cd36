"""``/admin/ai-lab``: the company's model connection, guard mode, quotas, retention, use by team.

Company admins only. Any change asks for step-up (password, and code with two-step verification) on the same
form, unless the admin confirmed it is them a few minutes ago. The API key is write-only: it is encrypted at
rest and never shown again; an empty key field keeps the saved key. "Test connection" runs in the worker
(``lab.test_connection``); the page polls for its result (htmx) or refreshes itself without JavaScript.
"""
from __future__ import annotations

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe.admin import admin_required
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.lab import admin_bp, settings as lab_settings, usage
from leadthe.lab.admin_forms import LabSettingsForm
from leadthe.lab.outbound import check_base_url
from leadthe.models import utcnow
from leadthe.models.enums import LabProvider
from leadthe.models.lab import LabSettings
from leadthe.trust import works_council


def _page(current: LabSettings) -> dict:
    now = utcnow()
    months = usage.by_team(current.org_id, now.date())
    if works_council.active(current.org_id):  # a team's use only for teams of at least MIN_GROUP people
        sizes = works_council.team_sizes({r.team_id for m in months for r in m.teams if r.team_id is not None})
        for month in months:
            month.teams = [r if works_council.shown(sizes.get(r.team_id) if r.team_id is not None else r.people)
                           else usage.TeamUse(r.team, team_id=r.team_id, hidden=True) for r in month.teams]
    return dict(settings=current, key_saved=current.api_key is not None, months=months,
                month_tokens=usage.company_month_tokens(current.org_id, now.date()), paused=lab_settings.paused(current, now),
                testing=lab_settings.testing(current), test_form=EmptyForm())


def _check_connection(form: LabSettingsForm, current: LabSettings) -> bool:
    """Field errors of the connection (base URL, model, key); True when there are none."""
    ok = True
    if form.provider.data == LabProvider.OPENAI:
        if not form.base_url.data:
            form.base_url.errors.append(_("Enter the base URL of your model's API, e.g. https://api.openai.com/v1."))
            ok = False
        else:
            problem = check_base_url(form.base_url.data, allow_private=current_app.config["LAB_ALLOW_PRIVATE_URLS"])
            if problem:
                form.base_url.errors.append(problem)
                ok = False
        if not form.model.data:
            form.model.errors.append(_("Enter the model's name as the API knows it, e.g. gpt-4o-mini or llama3.1."))
            ok = False
    if form.api_key.data and form.remove_key.data:
        form.remove_key.errors.append(_("Enter a new key or remove the saved one, not both."))
        ok = False
    elif form.remove_key.data and current.api_key is None:
        form.remove_key.errors.append(_("There is no saved key to remove."))
        ok = False
    return ok


def _values(form: LabSettingsForm) -> dict:
    """The form's values as the settings row holds them."""
    values = {name: getattr(form, name).data for name in lab_settings.FIELDS}
    values["model_feedback"] = bool(values["model_feedback"])
    for name in ("base_url", "model", "provider_name"):
        values[name] = values[name] or ""
    return values


@admin_bp.route("/ai-lab", methods=["GET", "POST"])
@admin_required
@limiter.limit("30 per hour", methods=["POST"])
def settings():
    current = lab_settings.for_org(current_user.org_id)
    form = LabSettingsForm(data=lab_settings.form_values(current))
    # every field's error at once: the connection's checks run even when another field is wrong
    if form.is_submitted() and all([form.validate(), _check_connection(form, current)]):
        values, new_key, remove_key = _values(form), form.api_key.data or None, bool(form.remove_key.data)
        changed = lab_settings.changes(current, values, new_key, remove_key)
        if not changed:
            flash(_("Nothing changed: the settings are as they were."), "info")
            return see_other(url_for("lab_admin.settings"))
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        else:
            lab_settings.save(current_user, current, values, new_key, remove_key, changed)
            flash(_("Practice lab settings saved."), "success")
            return see_other(url_for("lab_admin.settings"))
    return render_form("lab/admin_settings.html", form, invalid=request.method == "POST", **_page(current))


@admin_bp.route("/ai-lab/test", methods=["GET", "POST"])
@admin_required
@limiter.limit("20 per hour", methods=["POST"])
def test_connection():
    """POST: ask the worker to test the saved connection; GET: the test's progress and result (a fragment
    for htmx polling; the whole page refreshes itself without JavaScript while the test runs)."""
    current = lab_settings.for_org(current_user.org_id)
    if request.method == "POST":
        if EmptyForm().validate_on_submit():
            if not current.connected:
                flash(_("Save a connection (base URL and model name) first, then test it."), "error")
                return see_other(url_for("lab_admin.settings"))
            lab_settings.request_test(current)
        return see_other(url_for("lab_admin.test_connection"))
    return render("lab/admin_test.html", block="lab_test", settings=current, testing=lab_settings.testing(current))
