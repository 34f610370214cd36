"""Legal holds (issue 21): while a hold covers a person (their own, or their company's), erasure and retention
keep that person's or company's data. Staff and the DPO place, change and release holds (``leadthe/trust/holds.py``)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, TenantScoped, Timestamped


class LegalHold(TenantScoped, Timestamped, Base):
    """A hold on one person (``user_id``) or one company (``org_id``), never both (the form makes
    sure; both become NULL only when the target is erased after the hold ended). Active from ``starts_at``
    until it is released or ``ends_at`` passes. Platform-level: staff manage holds across companies, so every
    query on it goes through ``unscoped`` with its reason."""

    __tablename__ = "legal_hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    # a company that holds a hold is not deleted by retention; SET NULL only if someone deletes it by hand
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    reference: Mapped[str] = mapped_column(sa.String(120), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    release_reason: Mapped[str] = mapped_column(sa.String(500), default="")
