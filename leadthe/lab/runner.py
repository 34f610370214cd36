"""Running generations outside the web request. (Issue 18, runner part.)

A run is created ``queued`` in the request (``create_run``); the worker's lab runner claims it, calls the
company's model through ``leadthe.lab.provider`` and appends the answer to the row as it arrives; the
page polls the row. Cancel, stalled runs and the circuit breaker live here too.
"""
from __future__ import annotations

from leadthe.extensions import db
from leadthe.models.enums import LabRunKind, LabRunStatus
from leadthe.models.lab import LabRun


def create_run(user, lesson, prompt: str, kind: str = LabRunKind.ANSWER, parent: LabRun | None = None) -> LabRun:
    """A queued run in the current transaction (the request commits it; the runner picks it up)."""
    run = LabRun(org_id=user.org_id, user_id=user.id, lesson_id=lesson.id, kind=kind, prompt=prompt,
                 parent_id=parent.id if parent is not None else None, status=LabRunStatus.QUEUED)
    db.session.add(run)
    db.session.flush()
    return run
