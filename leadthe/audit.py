"""The audit log of security events: sign-ins, failures, lock-outs, password and role changes, ..."""
from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context

from leadthe.database import write_apart
from leadthe.extensions import db
from leadthe.models import AuditEvent
from leadthe.net import client_ip, user_agent


def _fields(action: str, actor, subject, org_id: int | None, details: dict) -> dict:
    if org_id is None:
        org_id = getattr(subject, "org_id", None) or getattr(actor, "org_id", None)
    return {
        "action": action,
        "actor_id": getattr(actor, "id", None),
        "subject_id": getattr(subject, "id", None),
        "org_id": org_id,
        "ip": client_ip() if has_request_context() else "",
        "user_agent": user_agent() if has_request_context() else "",
        "details": details,
    }


def record(action: str, *, actor=None, subject=None, org_id: int | None = None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change)."""
    event = AuditEvent(**_fields(action, actor, subject, org_id, details))
    db.session.add(event)
    return event


def record_apart(action: str, *, actor=None, subject=None, org_id: int | None = None, conn=None,
                 only_if_refused: bool = False, **details) -> None:
    """Write an audit event in its own short transaction (``write_apart``), apart from the request's session,
    so that it is kept whatever becomes of the request: for read requests (a staff member viewed a person, an
    export was downloaded), which never write through their session, and for refusals (a failed log-in or
    step-up, a lock-out), whose request is rolled back. In a GET, the worker or the CLI it is written at once;
    in a POST once the request's own transaction has ended. ``conn``: an open ``write_transaction()`` to join;
    ``only_if_refused``: see ``write_apart``."""
    values = _fields(action, actor, subject, org_id, details)
    if conn is not None:
        conn.execute(sa.insert(AuditEvent), [values])
        return
    write_apart(lambda own: own.execute(sa.insert(AuditEvent), [values]), only_if_refused=only_if_refused)
