"""Trust for buyers and works councils (issue 21): who looked at a person's data."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, TenantScoped, utcnow


class AccessLogEntry(TenantScoped, Base):
    """One view of a person's individual data by someone else (their manager, an admin, staff with a break-glass
    grant, a generated evidence pack), shown to the person at /privacy/access-log and kept one year.

    ``viewer_id`` is set NULL when the viewer's account is erased: the entry stays in the person's log with the
    viewer's role only. The person's own entries go with their account (CASCADE)."""

    __tablename__ = "access_log_entry"
    __table_args__ = (sa.Index("ix_access_log_entry_subject_created", "subject_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the subject's company when it was seen (NULL for a person in no company, seen by staff)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    viewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # learner/manager/admin/staff/dpo, or "evidence_pack" for a generated document
    viewer_role: Mapped[str] = mapped_column(sa.String(20))
    what: Mapped[str] = mapped_column(sa.String(30))  # a code of leadthe.trust.access_log.WHAT
    ref: Mapped[str] = mapped_column(sa.String(200), default="")  # the path seen (no query string) or object
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
