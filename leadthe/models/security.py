"""Server-side session records and the audit log."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadthe.models.base import Base, TenantScoped, Timestamped, utcnow


class UserSession(Timestamped, Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(400), default="")
    # when the person last proved it is them again (password, + code with 2FA) in this browser
    reauth_at: Mapped[datetime | None]

    user: Mapped["User"] = relationship()  # noqa: F821


class RecoveryCode(Timestamped, Base):
    """One of a person's single-use recovery codes for two-step verification; only a keyed hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]


class AuditEvent(TenantScoped, Base):
    """Security-relevant events. Append-only; erasure pseudonymises the people in it."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_org_created", "org_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign keys on purpose: the log outlives the people and companies it mentions.
    org_id: Mapped[int | None] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(index=True)
    subject_id: Mapped[int | None] = mapped_column(index=True)
    # after an erasure the person is replaced by a keyed hash: events stay linkable, the person does not
    actor_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    subject_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(400), default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # the tamper-evident chain (leadthe.audit_chain): a keyed digest of the personal fields above, taken when
    # the event is written, and, once the event is sealed, its place in its chain (one per company, one for the
    # platform), the previous event's hash and its own
    personal_digest: Mapped[str] = mapped_column(sa.String(80), default="")
    chain_seq: Mapped[int | None] = mapped_column(index=True)  # NULL: not sealed yet (the sealer looks for these)
    chain_prev: Mapped[str] = mapped_column(sa.String(64), default="")
    chain_hash: Mapped[str] = mapped_column(sa.String(64), default="")


class AuditChainHead(TenantScoped, Base):
    """The last sealed event of each audit chain (``chain``: "org:<id>" or "platform"). Verification compares
    a chain's last event with it, so cutting events off the end is found; companies can download their head."""

    __tablename__ = "audit_chain_head"

    chain: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    org_id: Mapped[int | None] = mapped_column()  # no foreign key: the log outlives the company
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default="")
    event_id: Mapped[int | None] = mapped_column()
    event_created_at: Mapped[datetime | None] = mapped_column()
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)
