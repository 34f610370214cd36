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
