"""Works-council mode (issue 21): the notice everyone in a company gets when an admin turns the mode on or off."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, utcnow


class WorksCouncilNotice(OrgOwned, Base):
    """One change of a company's works-council mode: shown as a banner to everyone in the company until
    ``expires_at``, and mailed to every active person of the company once (``last_user_id``/``mailed``/``finished_at``
    move with each batch, see leadthe/admin/jobs.py). Turning the mode off carries the admin's recorded reason; the
    admin is named by role only (``actor_role``), their id is set empty when their account is erased."""

    __tablename__ = "works_council_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    turned_on: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(sa.String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # mailing progress (the company-scoped form of leadthe.mail.mail_everyone)
    last_user_id: Mapped[int] = mapped_column(default=0)
    mailed: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
