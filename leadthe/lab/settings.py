"""A company's practice-lab settings: the ``LabSettings`` row, or the defaults before an admin saved any; saving
an admin's changes (audited, the AI tools inventory kept in step); the connection the model is called through;
"test connection"."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from leadthe import audit
from leadthe.extensions import db
from leadthe.lab.provider import Connection
from leadthe.worker import enqueue_job
from leadthe.models import AiTool, utcnow
from leadthe.models.enums import AiToolStatus, LabProvider
from leadthe.models.lab import LabSettings
from leadthe.tenancy import scoped, scoped_get

CONNECTION_FIELDS = ("provider", "base_url", "model", "provider_name", "model_feedback")
QUOTA_FIELDS = ("person_daily_tokens", "company_monthly_tokens")
# what the admin's form changes, grouped as the audit log records it (the key is its own group: "key")
GROUPS = {"connection": CONNECTION_FIELDS, "quotas": QUOTA_FIELDS, "guard": ("guard_mode",), "retention": ("retention_days",)}
FIELDS = tuple(name for names in GROUPS.values() for name in names)


def for_org(org_id: int) -> LabSettings:
    """The company's settings; an unsaved row with the defaults (no model connected) when there are none yet.
    The caller adds it to the session if it changes it."""
    found = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == org_id))
    if found is not None:
        return found
    return LabSettings(org_id=org_id, provider="none", base_url="", model="", provider_name="", model_feedback=False,
                       guard_mode="warn", person_daily_tokens=LabSettings.person_daily_tokens.default.arg,
                       company_monthly_tokens=LabSettings.company_monthly_tokens.default.arg,
                       retention_days=LabSettings.retention_days.default.arg, failures=0, test_message="")


def connection_for(settings: LabSettings):
    """The ``provider.Connection`` for the company's saved settings and this app's timeouts (the runner, the
    grading and the admin's "test connection" all call the model through it)."""
    config = current_app.config
    return Connection(base_url=(settings.base_url or "").strip(), model=settings.model or "", api_key=settings.api_key or None,
                      connect_timeout=float(config["LAB_CONNECT_TIMEOUT"]), read_timeout=float(config["LAB_READ_TIMEOUT"]),
                      total_timeout=float(config["LAB_TOTAL_TIMEOUT"]), allow_private=bool(config["LAB_ALLOW_PRIVATE_URLS"]))


def host_of(url: str) -> str:
    try:
        return urlsplit(url or "").hostname or ""
    except ValueError:
        return ""


def provider_label(settings: LabSettings) -> str:
    """How the company's model is named to people: the name the admin gave it, else the base URL's host
    ("" when no model is connected)."""
    if settings.provider == LabProvider.NONE:
        return ""
    return settings.provider_name or host_of(settings.base_url) or settings.model


def form_values(settings: LabSettings) -> dict:
    """The settings as the admin's form shows them (never the key)."""
    return {name: getattr(settings, name) for name in FIELDS}


def changes(settings: LabSettings, values: dict, new_key: str | None, remove_key: bool) -> dict[str, list[str]]:
    """What ``values`` (and the key) change, by group; empty when nothing does."""
    differs = {name for name in FIELDS if getattr(settings, name) != values[name]}
    found = {group: [n for n in names if n in differs] for group, names in GROUPS.items()}
    found["key"] = ["set"] if new_key else (["removed"] if remove_key else [])
    return {group: names for group, names in found.items() if names}


def testing(settings: LabSettings) -> bool:
    """A test was asked for and the worker has not answered it yet."""
    return bool(settings.test_requested_at and (settings.tested_at is None or settings.tested_at < settings.test_requested_at))


def paused(settings: LabSettings, now=None) -> bool:
    """Calls are paused after repeated provider failures (the runner's circuit breaker)."""
    return bool(settings.paused_until and settings.paused_until > (now or utcnow()))


def _audit(actor, settings: LabSettings, changed: dict[str, list[str]]) -> None:
    org = actor.org_id
    if "connection" in changed:
        audit.record("lab.connection_changed", actor=actor, org_id=org, changed=changed["connection"],
                     reference=provider_label(settings) or settings.provider)
    key = {"set": "lab.key_set", "removed": "lab.key_removed"}.get((changed.get("key") or [""])[0])
    if key:
        audit.record(key, actor=actor, org_id=org)
    if "quotas" in changed:
        audit.record("lab.quotas_changed", actor=actor, org_id=org, changed=changed["quotas"])
    if "guard" in changed:
        audit.record("lab.guard_changed", actor=actor, org_id=org, reference=settings.guard_mode)
    if "retention" in changed:
        audit.record("lab.retention_changed", actor=actor, org_id=org, reference=str(settings.retention_days))


def save(actor, settings: LabSettings, values: dict, new_key: str | None, remove_key: bool,
         changed: dict[str, list[str]]) -> None:
    """Apply an admin's checked ``values`` (and key) to ``settings`` (added to the session when new), audit each
    kind of change, and list the model in the company's AI tools inventory."""
    if settings.id is None:
        db.session.add(settings)
    for name in FIELDS:
        setattr(settings, name, values[name])
    if new_key:
        settings.api_key, settings.key_set_at = new_key, utcnow()
    elif remove_key:
        settings.api_key, settings.key_set_at = None, None
    if "connection" in changed or "key" in changed:  # a new connection: the old test result and failures no longer apply
        settings.test_requested_at, settings.tested_at, settings.test_ok, settings.test_message = None, None, None, ""
        settings.failures, settings.paused_until = 0, None
    settings.updated_by_id = actor.id
    db.session.flush()
    _audit(actor, settings, changed)
    if settings.provider != LabProvider.NONE and ("connection" in changed or settings.tool_id is None):
        sync_tool(actor, settings)


def sync_tool(actor, settings: LabSettings) -> AiTool:
    """The company's AI tools inventory lists the lab's model (approved; no personal data), linked by
    ``LabSettings.tool_id``: created the first time, renamed when the provider's name changes. A tool of the
    same name the admin listed before is reused."""
    name = _("Practice lab: %(name)s", name=provider_label(settings))[:120]
    same_name = scoped(AiTool, actor.org_id).where(sa.func.lower(AiTool.name) == name.lower())
    tool = scoped_get(AiTool, settings.tool_id) if settings.tool_id else None
    if tool is None:  # never linked, or deleted from the inventory since
        tool = db.session.scalar(same_name)
    created = tool is None
    if created:
        tool = AiTool(org_id=actor.org_id, name=name)
        db.session.add(tool)
    elif db.session.scalar(same_name.where(AiTool.id != tool.id)) is None:
        tool.name = name
    tool.vendor = (settings.provider_name or host_of(settings.base_url))[:120]
    tool.purpose = _("Practice lab for learners: exercises in writing prompts, on the model %(model)s.", model=settings.model)
    tool.status = AiToolStatus.APPROVED
    tool.personal_data_allowed = False
    db.session.flush()
    settings.tool_id = tool.id
    audit.record("ai_tool.created" if created else "ai_tool.updated", actor=actor, org_id=actor.org_id, reference=tool.name)
    return tool


def request_test(settings: LabSettings) -> None:
    """Ask the worker to test the saved connection (``lab.test_connection``); the page polls for the result."""
    settings.test_requested_at = utcnow()
    enqueue_job("lab.test_connection", {"org_id": settings.org_id})
    db.session.flush()
