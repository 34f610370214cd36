"""``/admin/ai-lab``: the company's model connection, guard mode, quotas, retention, use by team.

Company admins only. Any change asks for step-up (password, and code with two-step verification) on the same
form, unless the admin confirmed it is them a few minutes ago. The API key is write-only: it is encrypted at
rest and never shown again; an empty key field keeps the saved key. "Test connection" runs in the worker
(``lab.test_connection``); the page polls for its result (htmx) or refreshes itself without JavaScript.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadthe import audit
from leadthe.admin import admin_required
from leadthe.auth.reauth import confirm_identity, show_problem
from leadthe.extensions import db, limiter
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.lab import admin_bp, usage
from leadthe.lab.admin_forms import LabSettingsForm
from leadthe.lab.outbound import check_base_url
from leadthe.lab.settings import for_org
from leadthe.models import AiTool, utcnow
from leadthe.models.enums import AiToolStatus, LabProvider
from leadthe.models.lab import LabSettings
from leadthe.tenancy import scoped, scoped_get
from leadthe.worker import enqueue_job

CONNECTION_FIELDS = ("provider", "base_url", "model", "provider_name", "model_feedback")
QUOTA_FIELDS = ("person_daily_tokens", "company_monthly_tokens")


def _form_data(settings: LabSettings) -> dict:
    return {"provider": settings.provider, "base_url": settings.base_url, "model": settings.model,
            "provider_name": settings.provider_name, "model_feedback": settings.model_feedback,
            "guard_mode": settings.guard_mode, "person_daily_tokens": settings.person_daily_tokens,
            "company_monthly_tokens": settings.company_monthly_tokens, "retention_days": settings.retention_days}


def testing(settings: LabSettings) -> bool:
    """A test was asked for and the worker has not answered it yet."""
    return bool(settings.test_requested_at and (settings.tested_at is None or settings.tested_at < settings.test_requested_at))


def _page(settings: LabSettings, **extra) -> dict:
    now = utcnow()
    today = now.date()
    return dict(settings=settings, key_saved=settings.api_key is not None, months=usage.by_team(settings.org_id, today),
                month_tokens=usage.company_month_tokens(settings.org_id, today),
                paused=bool(settings.paused_until and settings.paused_until > now), testing=testing(settings),
                test_form=EmptyForm(), **extra)


def _check_connection(form: LabSettingsForm, settings: LabSettings) -> bool:
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
    elif form.remove_key.data and settings.api_key is None:
        form.remove_key.errors.append(_("There is no saved key to remove."))
        ok = False
    return ok


GROUPS = {"connection": CONNECTION_FIELDS, "quotas": QUOTA_FIELDS, "guard": ("guard_mode",), "retention": ("retention_days",)}
FIELDS = tuple(name for names in GROUPS.values() for name in names)


def _wanted(form: LabSettingsForm) -> dict:
    """The form's values as the settings row holds them."""
    wanted = {name: getattr(form, name).data for name in FIELDS}
    wanted["model_feedback"] = bool(wanted["model_feedback"])
    for name in ("base_url", "model", "provider_name"):
        wanted[name] = wanted[name] or ""
    return wanted


def _changes(settings: LabSettings, form: LabSettingsForm) -> dict[str, list[str]]:
    """What the form changes, grouped as the audit log records it."""
    differs = {name for name, value in _wanted(form).items() if getattr(settings, name) != value}
    changes = {group: [n for n in names if n in differs] for group, names in GROUPS.items()}
    changes["key"] = ["set"] if form.api_key.data else (["removed"] if form.remove_key.data else [])
    return {group: names for group, names in changes.items() if names}


def host_of(url: str) -> str:
    try:
        return urlsplit(url or "").hostname or ""
    except ValueError:
        return ""


def _sync_tool(actor, settings: LabSettings) -> None:
    """The company's AI tools inventory lists the lab's model (approved; no personal data), linked by
    ``LabSettings.tool_id``: created the first time, renamed when the provider's name changes."""
    label = settings.provider_name or host_of(settings.base_url) or settings.model
    name = _("Practice lab: %(name)s", name=label)[:120]
    tool = scoped_get(AiTool, settings.tool_id) if settings.tool_id else None
    if tool is None:  # never linked, or deleted from the inventory since: one of the same name is reused
        tool = db.session.scalar(scoped(AiTool, actor.org_id).where(sa.func.lower(AiTool.name) == name.lower()))
    created = tool is None
    if created:
        tool = AiTool(org_id=actor.org_id, name=name)
        db.session.add(tool)
    else:
        clash = db.session.scalar(scoped(AiTool, actor.org_id).where(sa.func.lower(AiTool.name) == name.lower(),
                                                                      AiTool.id != tool.id))
        if clash is None:
            tool.name = name
    tool.vendor = (settings.provider_name or host_of(settings.base_url))[:120]
    tool.purpose = _("Practice lab for learners: exercises in writing prompts, on the model %(model)s.", model=settings.model)
    tool.status = AiToolStatus.APPROVED
    tool.personal_data_allowed = False
    db.session.flush()
    settings.tool_id = tool.id
    audit.record("ai_tool.created" if created else "ai_tool.updated", actor=actor, org_id=actor.org_id, reference=tool.name)


def _audit(actor, settings: LabSettings, changes: dict[str, list[str]]) -> None:
    org = actor.org_id
    if "connection" in changes:
        audit.record("lab.connection_changed", actor=actor, org_id=org, changed=changes["connection"],
                     reference=settings.provider_name or host_of(settings.base_url))
    key = {"set": "lab.key_set", "removed": "lab.key_removed"}.get((changes.get("key") or [""])[0])
    if key:
        audit.record(key, actor=actor, org_id=org)
    if "quotas" in changes:
        audit.record("lab.quotas_changed", actor=actor, org_id=org, changed=changes["quotas"])
    if "guard" in changes:
        audit.record("lab.guard_changed", actor=actor, org_id=org, reference=settings.guard_mode)
    if "retention" in changes:
        audit.record("lab.retention_changed", actor=actor, org_id=org, reference=str(settings.retention_days))


def save(actor, settings: LabSettings, form: LabSettingsForm, changes: dict[str, list[str]]) -> None:
    """Apply the form to ``settings`` (added to the session when new) and audit each kind of change."""
    if settings.id is None:
        db.session.add(settings)
    for name, value in _wanted(form).items():
        setattr(settings, name, value)
    if form.api_key.data:
        settings.api_key, settings.key_set_at = form.api_key.data, utcnow()
    elif form.remove_key.data:
        settings.api_key, settings.key_set_at = None, None
    if "connection" in changes or "key" in changes:  # a new connection: its old test result and failures no longer apply
        settings.tested_at, settings.test_ok, settings.test_message = None, None, ""
        settings.test_requested_at = None
        settings.failures, settings.paused_until = 0, None
    settings.updated_by_id = actor.id
    db.session.flush()
    _audit(actor, settings, changes)
    if settings.provider != LabProvider.NONE and ("connection" in changes or settings.tool_id is None):
        _sync_tool(actor, settings)


@admin_bp.route("/ai-lab", methods=["GET", "POST"])
@admin_required
@limiter.limit("30 per hour", methods=["POST"])
def settings():
    current = for_org(current_user.org_id)
    form = LabSettingsForm(data=_form_data(current))
    # every field's error at once: the connection's checks run even when another field is wrong
    if form.is_submitted() and all([form.validate(), _check_connection(form, current)]):
        changes = _changes(current, form)
        if not changes:
            flash(_("Nothing changed: the settings are as they were."), "info")
            return see_other(url_for("lab_admin.settings"))
        problem = confirm_identity(current_user, form.password.data, form.code.data)
        if problem:
            show_problem(form, problem)
        else:
            save(current_user, current, form, changes)
            flash(_("Practice lab settings saved."), "success")
            return see_other(url_for("lab_admin.settings"))
    return render_form("lab/admin_settings.html", form, invalid=request.method == "POST", **_page(current))


@admin_bp.route("/ai-lab/test", methods=["GET", "POST"])
@admin_required
@limiter.limit("20 per hour", methods=["POST"])
def test_connection():
    """POST: ask the worker to test the saved connection; GET: the test's progress and result (a fragment
    for htmx polling; the whole page refreshes itself without JavaScript while the test runs)."""
    current = for_org(current_user.org_id)
    if request.method == "POST":
        if EmptyForm().validate_on_submit():
            if not current.connected:
                flash(_("Save a connection (base URL and model name) first, then test it."), "error")
                return see_other(url_for("lab_admin.settings"))
            current.test_requested_at = utcnow()
            enqueue_job("lab.test_connection", {"org_id": current.org_id})
            db.session.flush()
        return see_other(url_for("lab_admin.test_connection"))
    return render("lab/admin_test.html", block="lab_test", settings=current, testing=testing(current))
