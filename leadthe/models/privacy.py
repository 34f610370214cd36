"""Privacy: requests under GDPR/CCPA with their deadlines, data exports, and processing choices."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_babel import lazy_gettext as _l

from leadthe.models.base import Base, TenantScoped, Timestamped, utcnow
from leadthe.models.enums import ExportStatus, RequestKind, RequestStatus, check_in

REQUEST_KINDS = {
    "access": _l("Access: a copy of my data"),
    "portability": _l("Portability: my data in a machine-readable file"),
    "rectification": _l("Rectification: correct my data"),
    "erasure": _l("Erasure: delete my account and data"),
    "restriction": _l("Restriction: limit how my data is used"),
    "objection": _l("Objection to processing"),
    "consent_withdrawal": _l("Withdrawal of consent"),
    "opt_out": _l("Opt-out of sale or sharing"),
    "know": _l("Right to know what is collected and why"),
    "question": _l("A question about my data"),
}
JURISDICTIONS = {"gdpr": _l("GDPR (EU/EEA, UK)"), "ccpa": _l("CCPA (California)")}
DUE_DAYS = {"gdpr": 30, "ccpa": 45}


class PrivacyRequest(TenantScoped, Base):
    """Every right a person exercised, self-service or not, with its legal deadline.

    Kept after an erasure as evidence that the request was honoured: the person is then replaced by a
    keyed hash (``subject_ref``) and every personal value is removed.
    """

    __tablename__ = "privacy_request"
    __table_args__ = (sa.Index("ix_privacy_request_queue", "status", "due_at"), check_in("kind", RequestKind),
                      check_in("status", RequestStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    subject_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    kind: Mapped[str] = mapped_column(sa.String(30))
    jurisdiction: Mapped[str] = mapped_column(sa.String(10), default="gdpr")
    self_service: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(20), default=RequestStatus.OPEN)
    details: Mapped[str] = mapped_column(sa.Text, default="")
    response: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # erasure: when it runs, how far it got (steps are safe to repeat), and what went wrong
    scheduled_for: Mapped[datetime | None]
    step: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")

    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])  # noqa: F821

    @property
    def overdue(self) -> bool:
        return self.completed_at is None and self.status not in (RequestStatus.CANCELLED, RequestStatus.REJECTED) and self.due_at < utcnow()


class DataExport(Timestamped, Base):
    __tablename__ = "data_export"
    # (status, id): the queue position a waiting person sees counts the queued exports before theirs; retention
    # looks for the ready ones. Neither reads the whole table as it grows.
    __table_args__ = (check_in("status", ExportStatus), sa.Index("ix_data_export_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("privacy_request.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(12), default=ExportStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    downloaded_at: Mapped[datetime | None]


class PrivacySettings(Base):
    """A person's choices about processing; each one is enforced where the data is collected or shown."""

    __tablename__ = "privacy_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    restrict_processing: Mapped[bool] = mapped_column(default=False)
    object_analytics: Mapped[bool] = mapped_column(default=False)
    object_leaderboard: Mapped[bool] = mapped_column(default=False)
    # in works-council mode leaderboards show only the people who opted in (off by default)
    leaderboard_opt_in: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    object_recommendations: Mapped[bool] = mapped_column(default=False)
    do_not_sell_share: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
