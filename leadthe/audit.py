"""The audit log of security events: sign-ins, failures, lock-outs, password and role changes, ..."""
from __future__ import annotations

from flask import has_request_context

from leadthe.extensions import db
from leadthe.models import AuditEvent
from leadthe.net import client_ip, user_agent


def record(action: str, *, actor=None, subject=None, org_id: int | None = None, **details) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change)."""
    if org_id is None:
        org_id = getattr(subject, "org_id", None) or getattr(actor, "org_id", None)
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        subject_id=getattr(subject, "id", None),
        org_id=org_id,
        ip=client_ip() if has_request_context() else "",
        user_agent=user_agent() if has_request_context() else "",
        details=details,
    )
    db.session.add(event)
    return event
