from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from leadthe import audit
from leadthe.auth.sessions import revoke_all_sessions
from leadthe.extensions import db
from leadthe.mail import customer_text, queue_mail
from leadthe.models import Invitation, Organization, PrivacyRequest, User, utcnow
from leadthe.models.enums import InvitationStatus, RequestStatus, UserStatus
from leadthe.models.support import Notice

OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.SCHEDULED, RequestStatus.IN_PROGRESS, RequestStatus.ERROR)


def privacy_queue(show: str = "open", page: int = 1, per_page: int = 50):
    stmt = sa.select(PrivacyRequest)
    if show == "open":
        stmt = stmt.where(PrivacyRequest.status.in_(OPEN_STATUSES))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(PrivacyRequest.due_at, PrivacyRequest.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def close_company(org: Organization, staff_user: User, reason: str) -> int:
    """The company leaves: everyone is signed out and told, its pending invitations stop working; the data
    is erased after the retention period."""
    now = utcnow()
    org.status, org.closed_at = "closed", now
    revoked = db.session.execute(sa.update(Invitation).where(Invitation.org_id == org.id, Invitation.status == InvitationStatus.PENDING)
                                 .values(status="revoked")).rowcount
    people = db.session.scalars(sa.select(User).where(User.org_id == org.id, User.status != UserStatus.CLOSED)).all()
    days = current_app.config["RETENTION_CLOSED_DAYS"]
    for person in people:
        person.status, person.closed_at = "closed", now
        revoke_all_sessions(person.id)
        queue_mail(person.email, "Your company has left LeadThe.AI", "company_closed", kind="privacy", user=person,
                   name=customer_text(person.first_name), org=customer_text(org.name), days=days)
    audit.record("org.closed", actor=staff_user, org_id=org.id, reason=reason, people=len(people), invitations_revoked=revoked)
    return len(people)


def recent_notices(days: int = 14):
    return list(db.session.scalars(sa.select(Notice).where(Notice.created_at >= utcnow() - timedelta(days=days))
                                   .order_by(Notice.id.desc()).limit(3)))
