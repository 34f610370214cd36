"""Cookie consent ledger, analytics page views, preferences and versioned policies."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, TenantScoped, Timestamped, utcnow


class ConsentRecord(Timestamped, Base):
    """One decision about cookies, appended (never updated): what, when, under which policy, and how."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(sa.String(32), index=True)  # anonymous id from the essential cookie
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    analytics: Mapped[bool] = mapped_column(default=False)
    preferences: Mapped[bool] = mapped_column(default=False)
    policy_version: Mapped[int] = mapped_column(default=1)
    cookie_revision: Mapped[str] = mapped_column(sa.String(16), default="")
    method: Mapped[str] = mapped_column(sa.String(20))  # banner | settings | browser_signal
    signal: Mapped[str] = mapped_column(sa.String(10), default="")  # GPC / DNT seen with the decision


class PageView(TenantScoped, Base):
    """Usage analytics, recorded only when the analytics gate allows it (see leadthe.analytics)."""

    __tablename__ = "page_view"
    __table_args__ = (sa.Index("ix_page_view_org_created", "org_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    visitor_id: Mapped[str] = mapped_column(sa.String(32), default="")  # the analytics cookie, when consented
    feature: Mapped[str] = mapped_column(sa.String(40))
    route: Mapped[str] = mapped_column(sa.String(120))  # the URL rule, not the full path (no ids, no queries)
    referrer: Mapped[str] = mapped_column(sa.String(200), default="")
    browser: Mapped[str] = mapped_column(sa.String(40), default="")
    os: Mapped[str] = mapped_column(sa.String(40), default="")
    device: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    ip_prefix: Mapped[str] = mapped_column(sa.String(45), default="")  # truncated: /24 for IPv4, /48 for IPv6


class UserPreference(Base):
    __tablename__ = "user_preference"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(12), default="system")  # system | light | dark | contrast
    density: Mapped[str] = mapped_column(sa.String(12), default="comfortable")  # comfortable | compact
    low_data: Mapped[bool] = mapped_column(default=False)
    email_progress: Mapped[bool] = mapped_column(default=True)
    email_product: Mapped[bool] = mapped_column(default=False)
    # managers: the weekly digest of their teams' progress
    email_digest: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # reminders of training the employer requires (AI-literacy programme): may be switched off; the
    # requirement and its dashboard notice stay (leadthe.literacy.reminders)
    email_required: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PolicyDocument(Timestamped, Base):
    """A version of the privacy policy, the cookie policy or the terms."""

    __tablename__ = "policy_document"
    __table_args__ = (sa.UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(12))  # privacy | cookies | terms
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # what changed, in a few words
    body_md: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    effective_at: Mapped[datetime]
    material: Mapped[bool] = mapped_column(default=False)
    categories_changed: Mapped[bool] = mapped_column(default=False)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class PolicyTranslation(Timestamped, Base):
    """A policy version in another language than English. The English text (``PolicyDocument``) stays the
    authoritative one; a translation is shown when the interface speaks its language, saying so."""

    __tablename__ = "policy_translation"
    __table_args__ = (sa.UniqueConstraint("document_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_document.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(sa.String(8))  # "de"
    title: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)


class PolicyAcknowledgement(Base):
    __tablename__ = "policy_acknowledgement"
    __table_args__ = (sa.UniqueConstraint("user_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_document.id", ondelete="CASCADE"))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyNotice(Base):
    """Progress of mailing a material change: the cursor moves in the same transaction as each batch of
    mail, so a restarted worker continues where it stopped and nobody is mailed twice."""

    __tablename__ = "policy_notice"

    document_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_document.id", ondelete="CASCADE"), primary_key=True)
    last_user_id: Mapped[int] = mapped_column(default=0)
    mailed: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
