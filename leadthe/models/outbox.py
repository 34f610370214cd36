"""The transactional outbox: mail and background jobs written in the same transaction as their cause."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, Timestamped, utcnow
from leadthe.models.enums import JobStatus, MailStatus, check_in


class OutboxMail(Timestamped, Base):
    __tablename__ = "outbox_mail"
    __table_args__ = (sa.Index("ix_outbox_mail_due", "status", "next_attempt_at"), check_in("status", MailStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    sent_at: Mapped[datetime | None]


class Job(Timestamped, Base):
    """A unit of background work (exports, erasures, retention), run by `leadthe worker`."""

    __tablename__ = "job"
    __table_args__ = (sa.Index("ix_job_due", "status", "run_at"), check_in("status", JobStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    finished_at: Mapped[datetime | None]


class WorkerHeartbeat(Base):
    """One row per running ``leadthe worker`` process ("host:pid"), written at its start and every round;
    deleted when it stops cleanly. ``/healthz`` reports the rows not seen for 5 minutes."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    jobs_done: Mapped[int] = mapped_column(default=0)
    mails_sent: Mapped[int] = mapped_column(default=0)
