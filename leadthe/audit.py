"""The audit log of security events: sign-ins, failures, lock-outs, password and role changes, ..."""
from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context

from leadthe.database import write_transaction
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


def record_apart(action: str, *, actor=None, subject=None, org_id: int | None = None, conn=None, **details) -> None:
    """Write an audit event in its own short transaction (``write_transaction()``), apart from the
    request's session: for read requests (a staff member viewed a person, an export was downloaded),
    which never write through their session. ``conn``: an open ``write_transaction()`` to join."""
    values = _fields(action, actor, subject, org_id, details)
    if conn is not None:
        conn.execute(sa.insert(AuditEvent), [values])
        return
    with write_transaction() as own:
        own.execute(sa.insert(AuditEvent), [values])
