"""The AI practice lab: a company's connection to its own model, the learners' runs against it, and the
usage that quotas and the admins' figures count.

- ``LabSettings``: one row per company (the model connection, the personal-data guard's mode, quotas,
  how long prompts are kept, and the circuit breaker that pauses calls after repeated provider failures).
  The API key is encrypted at rest with the data key (``EncryptedString``; ``leadthe rotate-data-key``
  re-encrypts it) and never shown again.
- ``LabRun``: one generation. ``kind="answer"``: the learner's prompt and the model's answer, stored as
  it arrives (the worker appends tokens; the page polls). ``kind="grading"``: the same model grading an
  answer run's prompt against the rubric ("model feedback", ``parent_id`` is the graded run). The
  deterministic rubric checks of a prompt are stored on the answer run (``checks``, ``score``,
  ``passed``). Personal data: kept ``LabSettings.retention_days`` (default 30), in the person's export,
  erased with them.
- ``LabUsage``: per person and day, tokens and calls (quotas) and exercises passed: counts only, never text.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from leadthe.crypto import EncryptedString
from leadthe.models.base import Base, OrgOwned, Timestamped, utcnow
from leadthe.models.enums import GuardMode, LabProvider, LabRunKind, LabRunStatus, check_in

DEFAULT_RETENTION_DAYS = 30
DEFAULT_PERSON_DAILY_TOKENS = 20_000
DEFAULT_COMPANY_MONTHLY_TOKENS = 2_000_000


class LabSettings(OrgOwned, Timestamped, Base):
    __tablename__ = "lab_settings"
    __table_args__ = (sa.UniqueConstraint("org_id"), check_in("provider", LabProvider), check_in("guard_mode", GuardMode))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(16), default=LabProvider.NONE)
    base_url: Mapped[str] = mapped_column(sa.String(500), default="")  # e.g. https://api.openai.com/v1
    model: Mapped[str] = mapped_column(sa.String(120), default="")
    provider_name: Mapped[str] = mapped_column(sa.String(120), default="")  # as learners see it ("Azure OpenAI, EU")
    api_key: Mapped[str | None] = mapped_column(EncryptedString(1000))  # write-only: never shown again
    key_set_at: Mapped[datetime | None]
    model_feedback: Mapped[bool] = mapped_column(default=False)  # the model may grade prompts too
    guard_mode: Mapped[str] = mapped_column(sa.String(8), default=GuardMode.WARN)
    person_daily_tokens: Mapped[int] = mapped_column(default=DEFAULT_PERSON_DAILY_TOKENS)
    company_monthly_tokens: Mapped[int] = mapped_column(default=DEFAULT_COMPANY_MONTHLY_TOKENS)
    retention_days: Mapped[int] = mapped_column(default=DEFAULT_RETENTION_DAYS)  # 0-365
    # circuit breaker: consecutive provider failures; at 3, calls pause until paused_until
    failures: Mapped[int] = mapped_column(default=0)
    paused_until: Mapped[datetime | None]
    # "test connection": asked for at, run by the worker, result
    test_requested_at: Mapped[datetime | None]
    tested_at: Mapped[datetime | None]
    test_ok: Mapped[bool | None]
    test_message: Mapped[str] = mapped_column(sa.String(300), default="")
    tool_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ai_tool.id", ondelete="SET NULL"))  # its inventory entry
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def connected(self) -> bool:
        return self.provider != LabProvider.NONE and bool(self.base_url and self.model)


class LabRun(OrgOwned, Base):
    __tablename__ = "lab_run"
    __table_args__ = (
        check_in("kind", LabRunKind),
        check_in("status", LabRunStatus),
        sa.Index("ix_lab_run_user_lesson", "user_id", "lesson_id", "created_at"),
        sa.Index("ix_lab_run_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=LabRunKind.ANSWER)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lab_run.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(sa.Text, default="")  # as sent (placeholders already in)
    answer: Mapped[str] = mapped_column(sa.Text, default="")  # grows as tokens arrive
    status: Mapped[str] = mapped_column(sa.String(16), default=LabRunStatus.QUEUED)
    error_code: Mapped[str] = mapped_column(sa.String(32), default="")  # leadthe.lab.provider.ERRORS
    model: Mapped[str] = mapped_column(sa.String(120), default="")  # the model that answered
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    tokens_estimated: Mapped[bool] = mapped_column(default=False)  # the provider reported no usage
    # deterministic rubric checks of the prompt: [{"check": ..., "met": bool}], score 0-100, passed
    checks: Mapped[list | None] = mapped_column(sa.JSON)
    score: Mapped[int | None]
    passed: Mapped[bool | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # the worker writes it with each batch of tokens
    finished_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]  # the worker's lease


class LabUsage(OrgOwned, Base):
    __tablename__ = "lab_usage"
    __table_args__ = (sa.UniqueConstraint("org_id", "user_id", "day"), sa.Index("ix_lab_usage_org_day", "org_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(sa.Date)
    tokens: Mapped[int] = mapped_column(default=0)
    calls: Mapped[int] = mapped_column(default=0)
    exercises_passed: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[int | None]
