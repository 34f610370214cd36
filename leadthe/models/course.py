"""Courses: the curriculum (course, module, lesson) and each learner's progress, answers and activity.

Content rows are identified by stable slugs, so reloading the curriculum updates them in place and
never touches the learners' rows that point at them. A lesson that disappears from the content is
archived, not deleted, so a completion recorded against it is never lost.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask_babel import lazy_gettext as _l

from leadthe.models.base import Base, TenantScoped, Timestamped, utcnow

LESSON_KINDS = ("reading", "video", "practice", "exercise")
LEVELS = ("beginner", "intermediate", "advanced")
LEVEL_LABELS = {"beginner": _l("Beginner"), "intermediate": _l("Intermediate"), "advanced": _l("Advanced")}
LESSON_KIND_LABELS = {"reading": _l("Reading"), "video": _l("Video"), "practice": _l("Practice")}


class Course(TenantScoped, Timestamped, Base):
    """A course; ``org_id`` NULL is a platform course everyone sees, else a company's private course."""

    __tablename__ = "course"
    # The tenant filter shows platform rows (org_id NULL) as well as the company's own (see leadthe.tenancy).
    __tenant_shared__ = True
    # An address (slug) is unique per owner: among the platform's courses, and within each company, so no
    # company learns of another's courses by the address it may not take. A company's course may share a
    # platform course's address; /courses/<slug> then opens the company's own (leadthe.courses.services).
    __table_args__ = (
        sa.UniqueConstraint("org_id", "slug"),
        # NULLs are distinct in a unique constraint (SQLite and PostgreSQL alike): the platform's need their own
        sa.Index("uq_course_platform_slug", "slug", unique=True,
                 sqlite_where=sa.text("org_id IS NULL"), postgresql_where=sa.text("org_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    description_md: Mapped[str] = mapped_column(sa.Text, default="")
    description_html: Mapped[str] = mapped_column(sa.Text, default="")
    topic: Mapped[str] = mapped_column(sa.String(40), default="general")
    level: Mapped[str] = mapped_column(sa.String(20), default="beginner")
    audience: Mapped[str] = mapped_column(sa.String(80), default="everyone")
    position: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)  # sum of the live lessons, kept by the services
    lesson_count: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=False)
    # months a certificate for this course stays valid (0: it does not expire); then the learner is reminded
    certificate_months: Mapped[int] = mapped_column(default=0, server_default="0")
    # what a learner can do after the course (a list of short sentences): shown on the course page and in
    # the AI-literacy evidence pack's curriculum
    objectives: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # plain text for full-text search (title is indexed too); PostgreSQL adds a generated tsvector
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    modules: Mapped[list[CourseModule]] = relationship(
        back_populates="course", order_by="CourseModule.position", cascade="all, delete-orphan", passive_deletes=True)


class CourseModule(Base):
    __tablename__ = "course_module"
    __table_args__ = (sa.UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    archived: Mapped[bool] = mapped_column(default=False)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position", cascade="all, delete-orphan", passive_deletes=True)


class Lesson(Base):
    __tablename__ = "lesson"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "slug"),
        sa.Index("ix_lesson_course_seq", "course_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("course_module.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20), default="reading")
    minutes: Mapped[int] = mapped_column(default=5)
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    # rendered once when the content is loaded or edited (Markdown -> HTML -> sanitised), never per request
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    prompt: Mapped[str] = mapped_column(sa.Text, default="")  # practice: the exercise
    # exercise (the practice lab): task, material, rubric criteria, pass mark, hints (leadthe.lab.exercise)
    exercise: Mapped[dict | None] = mapped_column(sa.JSON)
    video_url: Mapped[str] = mapped_column(sa.String(500), default="")
    transcript_md: Mapped[str] = mapped_column(sa.Text, default="")
    transcript_html: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)  # within the module
    seq: Mapped[int] = mapped_column(default=0)  # within the course (module order, then lesson order)
    archived: Mapped[bool] = mapped_column(default=False)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    module: Mapped[CourseModule] = relationship(back_populates="lessons")


class Enrollment(Timestamped, Base):
    __tablename__ = "enrollment"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    last_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lesson.id", ondelete="SET NULL"))
    last_seen_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class LessonCompletion(Base):
    __tablename__ = "lesson_completion"
    # The unique pair is what makes completing idempotent under double submits and retries.
    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id"),
        sa.Index("ix_lesson_completion_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeAnswer(Base):
    __tablename__ = "practice_answer"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityDay(Base):
    """Per person and (UTC) day: believable time spent and lessons completed; streaks and charts read it."""

    __tablename__ = "activity_day"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "day"),
        # company dashboards and weekly leaderboards read a date range across many people
        sa.Index("ix_activity_day_day_user", "day", "user_id", "lessons_completed", "seconds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(sa.Date)
    seconds: Mapped[int] = mapped_column(default=0)
    lessons_completed: Mapped[int] = mapped_column(default=0)
    last_ping_at: Mapped[datetime | None]


class SearchQuery(Base):
    """Search terms, kept only with analytics consent (see leadthe.courses.services.record_search)."""

    __tablename__ = "search_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(sa.String(200))
    results: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


TRANSLATABLE = ("course", "module", "lesson", "quiz", "question", "choice")


class ContentTranslation(Base):
    """A piece of the curriculum in another language: the translated fields of one course, module, lesson,
    quiz, quiz question or choice (``entity`` and ``entity_id``) as JSON, e.g. ``{"title": …, "body_html": …}``.

    The original row stays the authority (its slugs, order, answers and totals); a reader in ``lang`` sees
    the translated fields over it, and the original where a translation is missing (leadthe.courses.translation).
    Written by the content loader from ``*.<lang>.md`` / ``quiz.<lang>.yaml`` beside the originals."""

    __tablename__ = "content_translation"
    __table_args__ = (sa.UniqueConstraint("entity", "entity_id", "lang"), sa.Index("ix_content_translation_lang", "lang"),
                      sa.CheckConstraint("entity IN ('course', 'module', 'lesson', 'quiz', 'question', 'choice')", name="entity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(sa.String(10))
    entity_id: Mapped[int] = mapped_column()
    lang: Mapped[str] = mapped_column(sa.String(8))
    fields: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON object: field name -> translated value
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
