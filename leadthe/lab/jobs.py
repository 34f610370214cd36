"""The practice lab's worker jobs (test connection) and the runner's place in the worker."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from leadthe.extensions import db
from leadthe.lab import provider
from leadthe.lab.runner import run_pending, start_lab_runner
from leadthe.lab.settings import connection_for
from leadthe.models import utcnow
from leadthe.models.lab import LabSettings
from leadthe.worker import job_handler, worker_companion

log = logging.getLogger(__name__)

# the runner beside the worker's loop (leadthe worker, make run's inline worker); `worker --once` drains it
worker_companion("lab runs", start_lab_runner, run_pending)


@job_handler("lab.test_connection")
def run_test_connection(job) -> None:
    """The admin's "test connection": one short call to the company's saved model; the result (ok, and a
    message for the admin) is stored on the settings row, which the admin's page polls. Never retried: a
    failed test is a result, not a failure of the job."""
    org_id = (job.payload or {}).get("org_id")
    settings = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == org_id))  # the worker: no tenant
    if settings is None:
        return
    if not settings.connected:
        ok, message = False, str(provider.ERRORS["not_connected"])
    else:
        conn = connection_for(settings)
        db.session.commit()  # no transaction held open during the call to the model
        try:
            ok, message = provider.test_connection(conn)
        except provider.ProviderError as exc:
            ok, message = False, str(provider.ERRORS.get(exc.code, exc.code))
        except Exception:  # noqa: BLE001 - whatever went wrong, the admin gets an answer instead of a page that waits
            log.exception("lab: test connection for company %s failed", org_id)
            ok, message = False, str(provider.ERRORS["network"])
        settings = db.session.scalar(sa.select(LabSettings).where(LabSettings.org_id == org_id))
        if settings is None:
            return
    settings.test_ok, settings.test_message, settings.tested_at = bool(ok), (message or "")[:300], utcnow()
    db.session.commit()
