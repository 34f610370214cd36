"""A company's practice-lab settings: the ``LabSettings`` row, or the defaults before an admin saved any."""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.models.lab import LabSettings


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
    from flask import current_app

    from leadthe.lab.provider import Connection

    config = current_app.config
    return Connection(base_url=(settings.base_url or "").strip(), model=settings.model or "", api_key=settings.api_key or None,
                      connect_timeout=float(config["LAB_CONNECT_TIMEOUT"]), read_timeout=float(config["LAB_READ_TIMEOUT"]),
                      total_timeout=float(config["LAB_TOTAL_TIMEOUT"]), allow_private=bool(config["LAB_ALLOW_PRIVATE_URLS"]))
