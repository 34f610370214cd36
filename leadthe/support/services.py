"""Support tickets and feedback."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadthe import audit
from leadthe.extensions import db
from leadthe.mail import queue_mail
from leadthe.models import Course, User, utcnow
from leadthe.models.enums import TicketStatus
from leadthe.models.support import Feedback, StaffAccessGrant, SupportMessage, SupportTicket
from leadthe.net import absolute_url

GRANT_LIFETIME = timedelta(hours=1)


def open_ticket(user: User, subject: str, category: str, body: str) -> SupportTicket:
    ticket = SupportTicket(org_id=user.org_id, user_id=user.id, subject=subject, category=category)
    ticket.messages.append(SupportMessage(author_id=user.id, body=body))
    db.session.add(ticket)
    db.session.flush()
    queue_mail(current_app.config.get("SUPPORT_EMAIL", "support@leadthe.ai"), f"New support ticket #{ticket.id}",
               "support_new_ticket", kind="support_staff", ticket=ticket,
               link=absolute_url("staff.support_ticket", ticket_id=ticket.id))
    return ticket


def tickets_of(user: User) -> list[SupportTicket]:
    return list(db.session.scalars(sa.select(SupportTicket).where(SupportTicket.user_id == user.id)
                                   .order_by(SupportTicket.updated_at.desc()).limit(100)))


def own_ticket(user: User, ticket_id: int) -> SupportTicket | None:
    return db.session.scalar(sa.select(SupportTicket).where(SupportTicket.id == ticket_id, SupportTicket.user_id == user.id))


def add_reply(ticket: SupportTicket, author: User, body: str, *, from_staff: bool) -> SupportMessage:
    message = SupportMessage(ticket_id=ticket.id, author_id=author.id, body=body, from_staff=from_staff)
    db.session.add(message)
    ticket.updated_at = utcnow()
    if from_staff:
        ticket.status = TicketStatus.ANSWERED
        if ticket.assigned_to_id is None:
            ticket.assigned_to_id = author.id
        person = ticket.user
        queue_mail(person.email, _l("Reply to your support request: %(subject)s", subject=ticket.subject), "support_reply", kind="support",
                   user=person, name=person.first_name, ticket=ticket, body=body,
                   link=absolute_url("support.ticket", ticket_id=ticket.id))
    else:
        ticket.status = TicketStatus.OPEN
    return message


def staff_queue(status: str = "active", q: str = "", page: int = 1, per_page: int = 50):
    stmt = sa.select(SupportTicket)
    if status == "active":
        stmt = stmt.where(SupportTicket.status.in_((TicketStatus.OPEN, TicketStatus.WAITING)))
    elif status in ("open", "waiting", "answered", "closed"):
        stmt = stmt.where(SupportTicket.status == status)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.func.lower(SupportTicket.subject).like(like))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(SupportTicket.updated_at.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def record_feedback(user: User, rating: int, comment: str, course_id: int | None) -> Feedback:
    fb = Feedback(org_id=user.org_id, user_id=user.id, kind="course" if course_id else "general", course_id=course_id,
                  rating=rating, comment=comment or "")
    db.session.add(fb)
    return fb


def feedback_summary(org_id: int | None = None):
    """Counts and average rating, overall and per course; for one company when org_id is given."""
    stmt = (sa.select(Course.title, Feedback.kind, sa.func.count(Feedback.id), sa.func.avg(Feedback.rating))
            .select_from(Feedback).outerjoin(Course, Course.id == Feedback.course_id)
            .group_by(Course.title, Feedback.kind).order_by(sa.func.count(Feedback.id).desc()))
    if org_id is not None:
        stmt = stmt.where(Feedback.org_id == org_id)
    return [{"course": title or _("General feedback"), "kind": kind, "count": n, "average": round(float(avg or 0), 1)}
            for title, kind, n, avg in db.session.execute(stmt)]


def recent_comments(org_id: int | None = None, limit: int = 20) -> list[str]:
    stmt = sa.select(Feedback.comment).where(Feedback.comment != "").order_by(Feedback.id.desc()).limit(limit)
    if org_id is not None:
        stmt = stmt.where(Feedback.org_id == org_id)
    return list(db.session.scalars(stmt))


# --- staff access to one person's data ---------------------------------------------------------------

def active_grant(staff: User, user_id: int) -> StaffAccessGrant | None:
    return db.session.scalar(sa.select(StaffAccessGrant).where(
        StaffAccessGrant.staff_id == staff.id, StaffAccessGrant.user_id == user_id, StaffAccessGrant.expires_at > utcnow())
        .order_by(StaffAccessGrant.id.desc()).limit(1))


def grant_access(staff: User, person: User, reason: str, reference: str) -> StaffAccessGrant:
    now = utcnow()
    grant = StaffAccessGrant(staff_id=staff.id, user_id=person.id, reason=reason, reference=reference,
                             created_at=now, expires_at=now + GRANT_LIFETIME)
    db.session.add(grant)
    # shown to the person in their security events, and to their company's admins in the audit log
    audit.record("staff.access_granted", actor=staff, subject=person, org_id=person.org_id,
                 reason=reason, reference=reference, until=grant.expires_at.isoformat())
    return grant
