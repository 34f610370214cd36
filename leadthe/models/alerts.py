"""Signs of attack for platform staff (issue 23, ``leadthe/alerts``): the alerts themselves, the failed log-ins
counted per network for the burst detector, and the networks each inbound credential (a company's SCIM token)
has been used from."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, TenantScoped, utcnow

ALERT_STATUSES = ("open", "acknowledged", "closed")


class SecurityAlert(TenantScoped, Base):
    """One sign of attack: a burst of failed log-ins from one network (``login.burst``), a burst of 404s on
    other companies' ids from one account (``tenancy.miss_burst``), a credential used from a new network
    (``credential.new_network``). Further events of the same burst update ``count`` and ``last_seen`` while
    the alert is not closed. Staff-only and platform-wide: every query on it goes through ``unscoped``."""

    __tablename__ = "security_alert"
    __table_args__ = (sa.Index("ix_security_alert_kind_network", "kind", "network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # the company it concerns, if one (the prober's company, the credential's company); no foreign key: the alert
    # outlives the company, like the audit log
    org_id: Mapped[int | None] = mapped_column()
    network: Mapped[str] = mapped_column(sa.String(64), default="")  # "203.0.113.0/24", "2001:db8::/64"
    actor_id: Mapped[int | None] = mapped_column(index=True)  # the account behind it (404 burst), no foreign key
    actor_ref: Mapped[str] = mapped_column(sa.String(64), default="")  # keyed hash replacing it after erasure
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    count: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    # {"event_ids": [audit event ids behind it, oldest first, at most MAX_EVENTS], "accounts": n, ...}
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class SecuritySignal(Base):
    """A failed log-in counted for the burst detector: its network and the account tried (``u<id>``, or
    ``e<fingerprint>`` of an address without an account). Kept a day; the audit event holds the record."""

    __tablename__ = "security_signal"
    __table_args__ = (sa.Index("ix_security_signal_kind_network_at", "kind", "network", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    network: Mapped[str] = mapped_column(sa.String(64))
    account_key: Mapped[str] = mapped_column(sa.String(80), default="")
    audit_event_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CredentialNetwork(OrgOwned, Base):
    """A network an inbound credential of a company (``kind`` "scim_token", ``credential_id`` its row) was used
    from: the first use records it; a use from a network not listed raises ``credential.new_network``."""

    __tablename__ = "credential_network"
    __table_args__ = (sa.UniqueConstraint("kind", "credential_id", "network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    credential_id: Mapped[int] = mapped_column()
    network: Mapped[str] = mapped_column(sa.String(64))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
