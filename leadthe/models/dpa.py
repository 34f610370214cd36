"""The data processing agreement (issue 21): its versions and each company's acceptance of them.

A ``DpaVersion`` is published by staff (version 1 comes from ``leadthe/content/dpa/``, created once); English is
the authoritative text, German a translation shown with a note saying so. A ``DpaAcceptance`` is the contract
record: which company accepted which version, when, under which legal name and address, and which admin did it
(their name, e-mail and role as they were then). It stays for the company's lifetime; when the accepting admin's
account is erased, their name and e-mail are replaced and the record stays (``leadthe.privacy.registry``)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, Timestamped, utcnow


class DpaVersion(Timestamped, Base):
    __tablename__ = "dpa_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # what changed, in a few words
    body_en: Mapped[str] = mapped_column(sa.Text)  # Markdown, authoritative
    body_de: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, a translation ("" = none)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class DpaAcceptance(OrgOwned, Base):
    __tablename__ = "dpa_acceptance"
    # one acceptance per company and version; the index answers the admin pages' "accepted yet?" question
    __table_args__ = (sa.UniqueConstraint("org_id", "version_id", name="uq_dpa_acceptance_org_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("dpa_version.id", ondelete="RESTRICT"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    via: Mapped[str] = mapped_column(sa.String(12), default="admin")  # "signup" | "admin" | "seed"
    legal_name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.Text, default="")
    # the accepting admin, and who they were then (the name becomes their role when the account is erased)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    accepted_by_name: Mapped[str] = mapped_column(sa.String(200), default="")
    accepted_by_email: Mapped[str | None] = mapped_column(sa.String(254))
    accepted_by_role: Mapped[str] = mapped_column(sa.String(20), default="admin")
    subject_ref: Mapped[str | None] = mapped_column(sa.String(64))  # the erased admin's pseudonym
