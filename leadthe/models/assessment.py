"""Assessments: course quizzes and their attempts, certificates, course assignments, and AI maturity
results for people and companies.

Quiz content rows (quiz, question, choice) are matched by slug/position when the curriculum is reloaded
and are archived rather than deleted, so stored attempts and responses always keep what they point at.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadthe.models.base import Base, OrgOwned, TenantScoped, utcnow

QUESTION_KINDS = ("single", "multiple", "true_false")
SCORING = ("best", "latest")
# a question's own text may already ask for several answers; the quiz then does not say it twice
_SAYS_SELECT_ALL = re.compile(r"select all that apply|alle zutreffenden", re.I)


class Quiz(Base):
    """A course's final quiz (content, like the course itself: no learner data)."""

    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    pass_mark: Mapped[int] = mapped_column(default=70)  # percent
    max_attempts: Mapped[int] = mapped_column(default=3)  # 0: unlimited
    shuffle: Mapped[bool] = mapped_column(default=False)
    scoring: Mapped[str] = mapped_column(sa.String(10), default="best")  # best | latest
    archived: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="quiz", order_by="QuizQuestion.position", cascade="all, delete-orphan", passive_deletes=True)


class QuizQuestion(Base):
    __tablename__ = "quiz_question"
    __table_args__ = (sa.UniqueConstraint("quiz_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(20), default="single")
    text: Mapped[str] = mapped_column(sa.Text)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    archived: Mapped[bool] = mapped_column(default=False)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    choices: Mapped[list[QuizChoice]] = relationship(
        back_populates="question", order_by="QuizChoice.position", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def says_select_all(self) -> bool:
        return bool(_SAYS_SELECT_ALL.search(self.text or ""))


class QuizChoice(Base):
    __tablename__ = "quiz_choice"
    __table_args__ = (sa.UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.Text)
    correct: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)

    question: Mapped[QuizQuestion] = relationship(back_populates="choices")


class QuizAttempt(TenantScoped, Base):
    """One submitted attempt. ``number`` counts the person's attempts at this quiz; the unique triple makes
    a double submit (or two tabs) unable to use more attempts than allowed."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (sa.UniqueConstraint("user_id", "quiz_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    seed: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the question/choice order shown
    score: Mapped[int] = mapped_column(default=0)  # percent
    correct_count: Mapped[int] = mapped_column(default=0)
    question_count: Mapped[int] = mapped_column(default=0)
    passed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizResponse(Base):
    __tablename__ = "quiz_response"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    # the person again (not only via the attempt), so export and erasure find the rows directly
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_question.id", ondelete="CASCADE"), index=True)
    choice_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    correct: Mapped[bool] = mapped_column(default=False)


class Certificate(TenantScoped, Base):
    """Issued when a course is completed (lessons done and quiz passed). The code is the only key of the
    public verification page, so it is long and random."""

    __tablename__ = "certificate"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]


class Assignment(OrgOwned, Base):
    """A course a manager or admin asked a person to take, optionally by a date. A team assignment is
    stored as one row per member at the time it was made."""

    __tablename__ = "assignment"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id", ondelete="SET NULL"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MaturityResult(TenantScoped, Base):
    """A person's AI maturity self-assessment. The rubric version, answers, dimension scores and the
    platform evidence used are stored, so the level can be recomputed under the result's own rubric.
    ``is_latest`` marks each person's current result, which team and company figures aggregate."""

    __tablename__ = "maturity_result"
    __table_args__ = (sa.Index("ix_maturity_result_user_latest", "user_id", "is_latest"),
                      sa.Index("ix_maturity_result_org_latest", "org_id", "is_latest", "level"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    rubric_version: Mapped[str] = mapped_column(sa.String(20))
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    scores: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    evidence: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    self_level: Mapped[int] = mapped_column(default=1)
    level: Mapped[int] = mapped_column(default=1)
    is_latest: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgMaturity(OrgOwned, Base):
    """The company admin's organisational questionnaire (six areas, 1-5 each); the newest row counts."""

    __tablename__ = "org_maturity"

    id: Mapped[int] = mapped_column(primary_key=True)
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    level: Mapped[int] = mapped_column(default=1)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
