"""Support tickets, feedback and surveys, broadcast notices, and staff access grants."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_babel import lazy_gettext as _l

from leadthe.models.base import Base, TenantScoped, Timestamped, utcnow
from leadthe.models.enums import NoticeKind, TicketStatus, check_in

TICKET_CATEGORIES = {"account": _l("My account or log-in"), "courses": _l("Courses and quizzes"), "privacy": _l("Privacy and my data"),
                     "billing": _l("Billing (admins)"), "bug": _l("Something is broken"), "other": _l("Something else")}
TICKET_STATUSES = {"open": _l("Open"), "waiting": _l("Waiting for you"), "answered": _l("Answered"), "closed": _l("Closed")}


class SupportTicket(TenantScoped, Timestamped, Base):
    __tablename__ = "support_ticket"
    __table_args__ = (sa.Index("ix_support_ticket_queue", "status", "updated_at"), check_in("status", TicketStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(20), default="other")
    status: Mapped[str] = mapped_column(sa.String(12), default=TicketStatus.OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[SupportMessage]] = relationship(back_populates="ticket", order_by="SupportMessage.id",
                                                          cascade="all, delete-orphan")
    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    assigned_to: Mapped["User | None"] = relationship(foreign_keys=[assigned_to_id])  # noqa: F821


class SupportMessage(Timestamped, Base):
    __tablename__ = "support_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("support_ticket.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    from_staff: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text)

    ticket: Mapped[SupportTicket] = relationship(back_populates="messages")


class Feedback(TenantScoped, Timestamped, Base):
    """A course survey answer or general feedback. Shown to staff in aggregate and to admins for their company."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="general")  # general | course
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id", ondelete="SET NULL"), index=True)
    rating: Mapped[int | None]
    comment: Mapped[str] = mapped_column(sa.Text, default="")


class Notice(Timestamped, Base):
    """A message from LeadThe.AI to every user (e.g. a change of ownership), in-app and by mail."""

    __tablename__ = "notice"
    __table_args__ = (check_in("kind", NoticeKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default=NoticeKind.GENERAL, server_default=NoticeKind.GENERAL.value)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # mailing progress (see leadthe.mail.mail_everyone)
    last_user_id: Mapped[int] = mapped_column(default=0)
    mailed: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    # a change of ownership: who the new owner is, when the business passes to them, whom to ask
    # (``body`` then says what happens to the data)
    new_owner: Mapped[str | None] = mapped_column(sa.String(200))
    transfer_on: Mapped[date | None]
    contact: Mapped[str | None] = mapped_column(sa.String(200))


class NoticeDismissal(Base):
    """A person closed a notice that stays on every page until they do (a change of ownership)."""

    __tablename__ = "notice_dismissal"
    __table_args__ = (sa.UniqueConstraint("notice_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notice.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffAccessGrant(Base):
    """A staff member's time-limited access to one person's data, for a recorded reason."""

    __tablename__ = "staff_access_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300))
    reference: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
