"""The AI-literacy programme (EU AI Act, Article 4): the company's inventory of AI tools, its versioned
AI-use policy with acknowledgements, requirement rules that map people to required courses, the
requirements those rules gave each person, and evidence packs generated for auditors.

A requirement row is materialised per (person, course) by leadthe.literacy.rules, so every status figure
is one aggregate query over ``requirement`` (see leadthe.literacy.status); it carries the completion and
the validity it counts, copied from the certificate when the course is completed.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.models.base import Base, OrgOwned, Timestamped, utcnow
from leadthe.models.enums import (AiToolStatus, EvidenceStatus, PolicyChange, RuleField, RuleOperator, check_in)


class AiTool(OrgOwned, Timestamped, Base):
    """One AI tool the company uses, considers or forbids; learners see the approved ones and their rules."""

    __tablename__ = "ai_tool"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"), check_in("status", AiToolStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    vendor: Mapped[str] = mapped_column(sa.String(120), default="")
    purpose: Mapped[str] = mapped_column(sa.Text, default="")  # what it is used for
    # who may use it: team ids and department names; both empty means everyone in the company
    team_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    departments: Mapped[list] = mapped_column(sa.JSON, default=list)
    risk_note: Mapped[str] = mapped_column(sa.Text, default="")
    personal_data_allowed: Mapped[bool] = mapped_column(default=False)
    confidential_data_allowed: Mapped[bool] = mapped_column(default=False)
    # the person responsible for the tool in the company (or a free-text owner such as "IT service desk")
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    owner_note: Mapped[str] = mapped_column(sa.String(120), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=AiToolStatus.UNDER_REVIEW)
    added_on: Mapped[date] = mapped_column(sa.Date, default=lambda: utcnow().date())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AiPolicyVersion(OrgOwned, Timestamped, Base):
    """A version of the company's AI-use policy. The company has at most one draft (``published_at`` NULL,
    ``version`` 0); publishing gives it the next number. A material change asks everyone to acknowledge it."""

    __tablename__ = "ai_policy_version"
    __table_args__ = (
        sa.Index("ix_ai_policy_version_org_version", "org_id", "version"),
        check_in("change", PolicyChange),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)  # 0 while a draft
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # what changed, in a few words
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised
    change: Mapped[str] = mapped_column(sa.String(10), default=PolicyChange.MATERIAL)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AiPolicyAck(OrgOwned, Base):
    """A person asked to read a material version of the AI-use policy (on publication, or when they join),
    and when they acknowledged it. One row per (person, version): asked once, recorded once."""

    __tablename__ = "ai_policy_ack"
    __table_args__ = (sa.UniqueConstraint("user_id", "version_id"),
                      sa.Index("ix_ai_policy_ack_version_acknowledged", "version_id", "acknowledged_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("ai_policy_version.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]


class RequirementRule(OrgOwned, Timestamped, Base):
    """People matching ``field``/``operator``/``value`` (or everyone) must complete ``course_id``: newcomers
    within ``due_days`` of joining, and again every ``refresh_months`` (NULL: the course certificate's
    validity; 0: never)."""

    __tablename__ = "requirement_rule"
    __table_args__ = (check_in("field", RuleField), check_in("operator", RuleOperator))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(12), default=RuleField.EVERYONE)
    operator: Mapped[str] = mapped_column(sa.String(8), default=RuleOperator.EQUALS)
    value: Mapped[str] = mapped_column(sa.String(120), default="")  # a department, job title or role
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"), index=True)
    due_days: Mapped[int] = mapped_column(default=30)
    refresh_months: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Requirement(OrgOwned, Base):
    """A course a person must complete because a rule covers them (``rule_id``: the first rule that did).
    ``ended_at`` is set when no rule covers them any more; what they completed stays theirs. The status
    (current, due soon, overdue, not started) is computed from ``completed_at``, ``valid_until`` and
    ``due_on`` by leadthe.literacy.status; a completion moves ``due_on`` to the refresh date."""

    __tablename__ = "requirement"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),
                      sa.Index("ix_requirement_org_course", "org_id", "course_id"),
                      sa.Index("ix_requirement_org_due", "org_id", "ended_at", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requirement_rule.id", ondelete="SET NULL"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    completed_at: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # reminders sent for the current due date (leadthe.literacy.reminders): reset when the due date moves
    reminded_due_at: Mapped[datetime | None]
    reminded_overdue_at: Mapped[datetime | None]


class EvidencePack(OrgOwned, Timestamped, Base):
    """An evidence pack (ZIP) the worker builds for a company admin; the file is deleted after 7 days."""

    __tablename__ = "evidence_pack"
    __table_args__ = (check_in("status", EvidenceStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=EvidenceStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    team_figures_only: Mapped[bool] = mapped_column(default=False)
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    error: Mapped[str] = mapped_column(sa.String(300), default="")
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
