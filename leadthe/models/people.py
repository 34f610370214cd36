"""Bringing people into a company: invitations (one per address and company) and CSV import previews."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, Timestamped
from leadthe.models.enums import ORG_ROLES, InvitationStatus, Role, check_in


class Invitation(OrgOwned, Timestamped, Base):
    """An invitation by mail. The link carries a signed token (valid 7 days) with this row's id and
    ``nonce``; resending changes the nonce, so only the newest link works, and revoking ends it."""

    __tablename__ = "invitation"
    __table_args__ = (sa.Index("ix_invitation_org_email", "org_id", "email"), check_in("role", ORG_ROLES),
                      check_in("status", InvitationStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))  # lower-cased
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    job_title: Mapped[str] = mapped_column(sa.String(120), default="")
    department: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.LEARNER)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id", ondelete="SET NULL"))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(12), default=InvitationStatus.PENDING)
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)


class ImportBatch(OrgOwned, Timestamped, Base):
    """A checked CSV import waiting for the admin's go-ahead: the parsed rows live here, so applying it
    never trusts a second upload. Only error-free files are stored; removed a day after upload."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    rows: Mapped[list] = mapped_column(sa.JSON)
    expires_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
