"""The change-of-ownership notice on every page (issue 21; the privacy policy's promise on business transfers):
which notice a person still has to see, and closing it. Staff send it from /staff/notices/ownership
(leadthe.staff.services.send_ownership_notice); the ``notice.mail`` job mails it (leadthe/staff/jobs.py)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort

from leadthe.extensions import db
from leadthe.models import utcnow
from leadthe.models.enums import NoticeKind
from leadthe.models.support import Notice, NoticeDismissal
from leadthe.process_tables import ProcessTable

SHOWN_DAYS = 365  # a change of ownership stays on every page until closed, for at most a year after it was sent
_ownership_table = ProcessTable("ownership_notices", (Notice,), 30.0)


def ownership_notice_ids() -> tuple[int, ...]:
    """Ids of the ownership notices still shown, newest first; kept per process (no query on most pages)."""
    def load():
        since = utcnow() - timedelta(days=SHOWN_DAYS)
        return tuple(db.session.scalars(sa.select(Notice.id).where(Notice.kind == NoticeKind.OWNERSHIP, Notice.created_at >= since)
                                        .order_by(Notice.id.desc())))

    return _ownership_table.get(None, load)


def pending_ownership_notice(user) -> Notice | None:
    """The newest change-of-ownership notice this signed-in person has not closed yet."""
    if not getattr(user, "is_authenticated", False):
        return None
    candidates = ownership_notice_ids()
    if not candidates:
        return None
    closed = set(db.session.scalars(sa.select(NoticeDismissal.notice_id).where(
        NoticeDismissal.user_id == user.id, NoticeDismissal.notice_id.in_(candidates))))
    due = next((notice_id for notice_id in candidates if notice_id not in closed), None)
    return db.session.get(Notice, due) if due is not None else None


def get_ownership_notice_or_404(notice_id: int) -> Notice:
    notice = db.get_or_404(Notice, notice_id)
    if notice.kind != NoticeKind.OWNERSHIP:
        abort(404)
    return notice


def dismiss(user, notice: Notice) -> None:
    """Closing twice changes nothing."""
    exists = db.session.scalar(sa.select(NoticeDismissal.id).where(NoticeDismissal.user_id == user.id,
                                                                   NoticeDismissal.notice_id == notice.id))
    if exists is None:
        db.session.add(NoticeDismissal(user_id=user.id, notice_id=notice.id))
