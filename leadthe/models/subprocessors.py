"""Versioned sub-processor list (issue 21): each published version of the list, its entries, the mailing of a change
to the companies' admins, and the companies' objections to a change (leadthe/trust/subprocessors.py)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadthe.models.base import Base, OrgOwned, Timestamped


class SubprocessorVersion(Timestamped, Base):
    """A version of the list. It applies from ``effective_at`` until the next version's ``effective_at``; a change
    is announced at least 30 days ahead. Version 1 is the bundled list, created once."""

    __tablename__ = "subprocessor_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    effective_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # what changed, in a few words
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    entries: Mapped[list[SubprocessorEntry]] = relationship(
        order_by="SubprocessorEntry.position", cascade="all, delete-orphan", lazy="selectin")


class SubprocessorEntry(Base):
    """One sub-processor in one version of the list."""

    __tablename__ = "subprocessor_entry"
    __table_args__ = (sa.UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("subprocessor_version.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(sa.String(40))  # stable id across versions (JSON, CSV, anchors, the diff)
    name: Mapped[str] = mapped_column(sa.String(200))
    purpose: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[str] = mapped_column(sa.Text)  # the categories of data, in words
    location: Mapped[str] = mapped_column(sa.String(200))
    in_eea: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    safeguard: Mapped[str] = mapped_column(sa.Text)
    since: Mapped[date] = mapped_column(sa.Date)
    tables: Mapped[str] = mapped_column(sa.String(1000), default="")  # registry tables, space-separated; "*" = all


class SubprocessorNotice(Base):
    """Progress of mailing a change to the companies' admins (resumable, see leadthe.mail.mail_everyone)."""

    __tablename__ = "subprocessor_notice"

    version_id: Mapped[int] = mapped_column(sa.ForeignKey("subprocessor_version.id", ondelete="CASCADE"), primary_key=True)
    last_user_id: Mapped[int] = mapped_column(default=0)
    mailed: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]


class SubprocessorObjection(OrgOwned, Timestamped, Base):
    """A company's objection to an announced change, made by one of its admins within the notice period; one per
    company and version. Staff answer it from their queue. The objecting admin's id becomes empty (and a keyed
    pseudonym takes its place) when their account is erased; the objection stays the company's."""

    __tablename__ = "subprocessor_objection"
    __table_args__ = (sa.UniqueConstraint("org_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("subprocessor_version.id", ondelete="CASCADE"), index=True)
    objected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    subject_ref: Mapped[str | None] = mapped_column(sa.String(64))  # the erased admin's pseudonym
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(sa.Text, default="")

    version: Mapped[SubprocessorVersion] = relationship()
    organization: Mapped["Organization"] = relationship()  # noqa: F821
    objected_by: Mapped["User | None"] = relationship(foreign_keys=[objected_by_id])  # noqa: F821
