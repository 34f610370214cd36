"""Progress e-mails already sent: one row per person, kind and event, so nobody is mailed twice."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, utcnow


class ProgressMail(Base):
    __tablename__ = "progress_mail"
    # The unique triple is the idempotency key: INSERT ... ON CONFLICT DO NOTHING decides who mails.
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # enrolled | halfway | completed | inactive | digest
    ref: Mapped[str] = mapped_column(sa.String(40))  # course id, last active day, or ISO week
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncReceipt(Base):
    """A change made offline and sent later (``POST /progress/sync``, issue 22): one row per person and the id the
    browser gave the change, so a queue sent twice, or by two tabs at once, counts every change exactly once. The
    unique pair is the idempotency key (INSERT ... ON CONFLICT DO NOTHING RETURNING). Kept 30 days."""

    __tablename__ = "sync_receipt"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(sa.String(40))  # the browser's id of the change (a UUID)
    kind: Mapped[str] = mapped_column(sa.String(10))  # complete | answer | beat
    happened_at: Mapped[datetime]  # when it happened on the device (clamped)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
