"""Learner-side reads and writes: catalogue, course page, player, progress, completion, activity.

Visibility: a course is visible when it is published and is a platform course (org_id NULL) or the
signed-in person's company's own. The tenant filter (leadthe.tenancy) already hides other companies'
private courses from every ORM query; ``course_visibility`` states the rule explicitly as well, so it
also holds where no tenant is active (platform staff), and is the one rule of the catalogue, the player
and the searches.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased, defer
from flask_babel import lazy_gettext as _l

from leadthe.database import shared_alias, upsert, write_transaction
from leadthe.extensions import db
from leadthe.process_tables import ProcessTable
from leadthe.courses.translation import translate_outline
from leadthe.signals import course_enrolled, lesson_completed
from leadthe.tenancy import tenant_clause, unscoped
from leadthe.models import (ActivityDay, Course, CourseModule, Enrollment, Lesson, LessonCompletion, PracticeAnswer,
                            User, utcnow)

# A visit ends after this long without a sign of life; time is only counted inside a visit.
VISIT_GAP = timedelta(minutes=5)
# What one heartbeat (sent every 30 s while the page is visible) may add at most.
HEARTBEAT_CAP = timedelta(seconds=60)
# What one page view may add when no heartbeat came (JavaScript off): the time since the last view,
# up to the visit gap. With JavaScript on, the heartbeats have already counted that time.
PAGE_VIEW_CAP = VISIT_GAP
# A page view this soon after the last sign of life writes nothing: the next one counts the time since
# that sign anyway, so at most this much of a visit's very end goes uncounted. Reloads and quick
# back-and-forth then cost no write at all.
PING_MIN_GAP = timedelta(seconds=15)
# The resume point's "last seen" time is moved at most this often while someone stays on one lesson.
RESUME_TOUCH_GAP = timedelta(seconds=60)

LENGTHS = {
    "short": (_l("Under 1 hour"), 0, 59),
    "medium": (_l("1 to 3 hours"), 60, 180),
    "long": (_l("Over 3 hours"), 181, None),
}
PER_PAGE = 24


def can_edit(user: User, course: Course) -> bool:
    if user.is_platform_staff:
        return course.org_id is None
    return user.is_org_admin and course.org_id is not None and course.org_id == user.org_id


def course_visibility(viewer: str, org_id, course=Course, *, drafts: str = "hidden"):
    """The one rule for which courses a person may open: the catalogue, the player and both full-text
    searches (compiled into their SQL) use it. ``viewer``: see ``viewer_kind``; ``org_id``: the person's company,
    a value or, in a statement built once, a parameter (NULL then matches no company).

    * Owner: the platform's courses and the company's own (``tenant_clause``), except a platform course whose
      address the company uses for a course this person may open: that address opens the company's.
    * ``drafts``: ``"hidden"`` shows published courses only (catalogue, search); ``"authors"`` also the
      author's own drafts, staff the platform's and a company admin the company's (the player);
      ``"shown"`` has no publication rule (my courses: what someone enrolled in stays there).
    """
    if org_id is None:
        owner = course.org_id.is_(None)
    else:
        mine = shared_alias(Course, "own_course")
        shadowed = sa.exists().where(mine.slug == course.slug, mine.org_id == org_id, _published_for(viewer, org_id, mine))
        owner = sa.and_(tenant_clause(course, org_id), sa.or_(course.org_id.is_not(None), ~shadowed))
    if drafts == "shown":
        return owner
    return sa.and_(owner, course.published.is_(True) if drafts == "hidden" else _published_for(viewer, org_id, course))


def _published_for(viewer: str, org_id, course):
    """Published, or a draft its author may open: staff the platform's, a company admin the company's."""
    rule = course.published.is_(True)
    if viewer == "staff":
        rule = sa.or_(rule, course.org_id.is_(None))
    elif viewer == "admin":
        rule = sa.or_(rule, course.org_id == org_id)
    return rule


def visible_courses(user: User, *, include_drafts: bool = False, course=Course):
    """The WHERE clause for the courses ``user`` may open (``course_visibility``)."""
    return course_visibility(viewer_kind(user), user.org_id, course, drafts="shown" if include_drafts else "hidden")


def viewer_kind(user: User) -> str:
    """Which draft rule applies to ``user`` (see ``_published_for``)."""
    if user.is_platform_staff:
        return "staff"
    if user.is_org_admin and user.org_id is not None:
        return "admin"
    return "member"


def _opened_by(slug, user: User):
    """The course ``/courses/<slug>`` opens: the company's own first, else the platform's (an address is
    unique per owner, so these are the only two candidates)."""
    return sa.and_(Course.slug == slug, course_visibility(viewer_kind(user), user.org_id, drafts="authors"))


# --- catalogue -------------------------------------------------------------------------------------

@dataclass
class CourseCard:
    course: Course
    done: int
    enrolled: bool
    completed_at: datetime | None

    @property
    def percent(self) -> int:
        total = self.course.lesson_count
        return min(100, round(100 * self.done / total)) if total else 0


def _done_counts(user_id: int):
    """Per course: live lessons the person completed (one grouped subquery)."""
    return (
        sa.select(LessonCompletion.course_id, sa.func.count().label("done"))
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .where(LessonCompletion.user_id == user_id, Lesson.archived.is_(False))
        .group_by(LessonCompletion.course_id)
        .subquery()
    )


def catalogue(user: User, *, topic: str = "", level: str = "", length: str = "", page: int = 1):
    done = _done_counts(user.id)
    stmt = (
        sa.select(Course, sa.func.coalesce(done.c.done, 0), Enrollment.id, Enrollment.completed_at)
        .outerjoin(done, done.c.course_id == Course.id)
        .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id, Enrollment.user_id == user.id))
        .where(visible_courses(user))
    )
    if topic:
        stmt = stmt.where(Course.topic == topic)
    if level:
        stmt = stmt.where(Course.level == level)
    if length in LENGTHS:
        _label, low, high = LENGTHS[length]
        stmt = stmt.where(Course.minutes >= low)
        if high is not None:
            stmt = stmt.where(Course.minutes <= high)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.with_only_columns(Course.id).subquery()))
    rows = db.session.execute(
        stmt.order_by(Course.org_id.is_(None), Course.position, Course.title).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    cards = [CourseCard(c, n, e is not None, completed) for c, n, e, completed in rows]
    return cards, total


def catalogue_facets(user: User) -> dict[str, list[str]]:
    rows = db.session.execute(sa.select(Course.topic, Course.level).where(visible_courses(user)).distinct()).all()
    return {"topics": sorted({t for t, _ in rows}), "levels": [lv for lv in ("beginner", "intermediate", "advanced") if lv in {l for _, l in rows}]}


# --- course page -----------------------------------------------------------------------------------

@dataclass
class OutlineItem:
    id: int
    slug: str
    title: str
    kind: str
    minutes: int
    seq: int
    module_id: int
    module_title: str
    completed_at: datetime | None
    # done without the date: the player's outline knows which lessons are done, and the date only of the open one
    done: bool = False

    def __post_init__(self):
        self.done = self.done or self.completed_at is not None


def get_course_or_404(slug: str, user: User) -> Course:
    course = db.session.scalar(sa.select(Course).where(_opened_by(slug, user)))
    if course is None:
        abort(404)
    return course


def outline(course_id: int, user_id: int) -> list[OutlineItem]:
    """Every live lesson of the course in order (``course_outline``), with the person's completion."""
    done = dict(db.session.execute(sa.select(LessonCompletion.lesson_id, LessonCompletion.completed_at).where(
        LessonCompletion.user_id == user_id, LessonCompletion.course_id == course_id)).all())
    return [OutlineItem(*entry, completed_at=done.get(entry[0])) for entry in course_outline(course_id)]


def group_by_module(items: list[OutlineItem]) -> list[tuple[str, list[OutlineItem]]]:
    groups: list[tuple[int, str, list[OutlineItem]]] = []
    for item in items:
        if not groups or groups[-1][0] != item.module_id:
            groups.append((item.module_id, item.module_title, []))
        groups[-1][2].append(item)
    return [(title, lessons) for _id, title, lessons in groups]


def enrollment_of(user_id: int, course_id: int) -> Enrollment | None:
    return db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id))


def course_modules(course_id: int) -> dict[int, CourseModule]:
    return {m.id: m for m in db.session.scalars(
        sa.select(CourseModule).where(CourseModule.course_id == course_id, CourseModule.archived.is_(False)))}


def enroll(user: User, course: Course) -> None:
    """Idempotent: a second enrolment (double click, retry) changes nothing."""
    db.session.execute(upsert(Enrollment).values(user_id=user.id, course_id=course.id, created_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["user_id", "course_id"]))
    course_enrolled.send(user, course=course)


def next_open_lesson(items: list[OutlineItem], after_id: int | None = None) -> OutlineItem | None:
    """The lesson to go on with, in course order (module, then lesson): the first one not yet done after
    ``after_id`` (the lesson just completed), else the first one not yet done from the start; None when
    every lesson is done."""
    start = next((i + 1 for i, item in enumerate(items) if item.id == after_id), 0)
    for item in items[start:] + items[:start]:
        if not item.done:
            return item
    return None


def next_lessons(user_id: int, course_ids: list[int]) -> dict[int, OutlineItem | None]:
    """For the dashboard: per course, the first lesson the person has not completed (one query for their
    completions; the outlines come from the per-process content table)."""
    if not course_ids:
        return {}
    done: dict[int, set[int]] = {cid: set() for cid in course_ids}
    for course_id, lesson_id in db.session.execute(
            sa.select(LessonCompletion.course_id, LessonCompletion.lesson_id)
            .where(LessonCompletion.user_id == user_id, LessonCompletion.course_id.in_(course_ids))):
        done[course_id].add(lesson_id)
    return {cid: next_open_lesson([OutlineItem(*entry, completed_at=None, done=entry[0] in done[cid])
                                   for entry in course_outline(cid)])
            for cid in course_ids}


# --- the player ------------------------------------------------------------------------------------

@dataclass
class PlayerPage:
    course: Course
    lesson: Lesson
    enrollment: Enrollment | None
    answer: PracticeAnswer | None
    items: list[OutlineItem]
    today: ActivityDay | None

    @property
    def index(self) -> int:
        return next((i for i, item in enumerate(self.items) if item.id == self.lesson.id), 0)

    @property
    def previous(self) -> OutlineItem | None:
        return self.items[self.index - 1] if self.index > 0 else None

    @property
    def next(self) -> OutlineItem | None:
        return self.items[self.index + 1] if self.index + 1 < len(self.items) else None

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.items)) if self.items else 0

    @property
    def completed_at(self) -> datetime | None:
        return self.items[self.index].completed_at if self.items else None

    @property
    def groups(self):
        return group_by_module(self.items)


@functools.cache
def _player_statement(viewer: str):
    """Built once per kind of viewer, with the person and their company as parameters."""
    user_id = sa.bindparam("user_id")
    done_ids = (sa.select(sa.func.aggregate_strings(sa.cast(LessonCompletion.lesson_id, sa.String), ","))
                .where(LessonCompletion.user_id == user_id, LessonCompletion.course_id == Course.id)
                .scalar_subquery())
    completion = aliased(LessonCompletion)
    return unscoped(
        sa.select(Lesson, Course, Enrollment, PracticeAnswer, ActivityDay, completion.completed_at, done_ids)
        # the long texts the player does not show stay in the database (loaded on access, should anything ask)
        .options(defer(Lesson.body_md), defer(Lesson.transcript_md), defer(Lesson.search_text),
                 defer(Course.description_md), defer(Course.description_html), defer(Course.search_text),
                 defer(Course.summary), defer(Course.audience))
        .join(Course, Course.id == Lesson.course_id)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id, Enrollment.user_id == user_id))
        .outerjoin(PracticeAnswer, sa.and_(PracticeAnswer.lesson_id == Lesson.id, PracticeAnswer.user_id == user_id))
        .outerjoin(ActivityDay, sa.and_(ActivityDay.user_id == user_id, ActivityDay.day == sa.bindparam("day")))
        .outerjoin(completion, sa.and_(completion.lesson_id == Lesson.id, completion.user_id == user_id))
        .where(Course.slug == sa.bindparam("course_slug"),
               course_visibility(viewer, sa.bindparam("org_id", type_=sa.Integer), drafts="authors"),
               Lesson.slug == sa.bindparam("lesson_slug"), Lesson.archived.is_(False), CourseModule.archived.is_(False)),
        reason="built once: its only company-owned entity, Course, is limited to the viewer's company and the "
               "platform's by course_visibility with the org_id parameter",
    )


def player_page(course_slug: str, lesson_slug: str, user: User, now: datetime | None = None) -> PlayerPage:
    """One query: the lesson with its course, the person's enrolment, saved answer, today's activity, when
    they completed this lesson and which lessons of the course they completed. The outline itself (titles
    and order, the same for everyone) comes from the per-process content table: a fixed number of queries
    for any course size."""
    now = now or utcnow()
    row = db.session.execute(_player_statement(viewer_kind(user)), {
        "course_slug": course_slug, "lesson_slug": lesson_slug, "user_id": user.id, "org_id": user.org_id,
        "day": now.date()}).first()
    if row is None:
        abort(404)
    lesson, course, enrollment, answer, today, completed_at, done_ids = row
    done = {int(i) for i in done_ids.split(",")} if done_ids else set()
    items = [OutlineItem(*entry, completed_at=completed_at if entry[0] == lesson.id else None, done=entry[0] in done)
             for entry in course_outline(course.id)]
    return PlayerPage(course, lesson, enrollment, answer, items, today)


# The outline of a course (live lessons in order, with their module) is the same for everyone and changes
# only when the content does: a per-process table (leadthe.process_tables).
OUTLINE_SECONDS = 30.0
_outline_table = ProcessTable("course_outlines", (Course, CourseModule, Lesson), OUTLINE_SECONDS)


@functools.cache
def _outline_content_statement():
    return (
        sa.select(Lesson.id, Lesson.slug, Lesson.title, Lesson.kind, Lesson.minutes, Lesson.seq, Lesson.module_id,
                  CourseModule.title)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(Lesson.course_id == sa.bindparam("course_id"), Lesson.archived.is_(False), CourseModule.archived.is_(False))
        .order_by(Lesson.seq)
    )


def course_outline(course_id: int) -> tuple[tuple, ...]:
    """(id, slug, title, kind, minutes, seq, module_id, module title) of the course's live lessons, in order.
    Only for a course the caller has already found visible to the person."""
    def load():
        # no company-owned table here: a Core statement on the session's connection
        return tuple(tuple(row) for row in db.session.connection().execute(
            _outline_content_statement(), {"course_id": course_id}))

    return translate_outline(_outline_table.get(course_id, load))


def record_lesson_view(page: PlayerPage, user: User, now: datetime | None = None) -> None:
    """Bookkeeping of a GET: the resume point and the page-view estimate of time spent, in one short
    write transaction of their own (the request itself stays a read)."""
    now = now or utcnow()
    enrollment, today = page.enrollment, page.today
    move_resume = enrollment is not None and (
        enrollment.last_lesson_id != page.lesson.id or enrollment.last_seen_at is None
        or not timedelta(0) <= now - enrollment.last_seen_at < RESUME_TOUCH_GAP)
    ping = today is None or today.last_ping_at is None or not timedelta(0) <= now - today.last_ping_at < PING_MIN_GAP
    if not (move_resume or ping):
        return  # nothing would change: a read stays a read
    with write_transaction() as conn:
        if move_resume:
            conn.execute(sa.update(Enrollment).where(Enrollment.id == enrollment.id)
                         .values(last_lesson_id=page.lesson.id, last_seen_at=now))
        if ping:
            _ping(conn, user.id, now, PAGE_VIEW_CAP, today, known=True)


def heartbeat(user: User, now: datetime | None = None) -> None:
    """A heartbeat from a visible page (POST, every 30 s): adds the time since the last sign of life,
    at most HEARTBEAT_CAP, and nothing when the visit had ended."""
    now = now or utcnow()
    today = db.session.scalar(sa.select(ActivityDay).where(ActivityDay.user_id == user.id, ActivityDay.day == now.date()))
    _ping(db.session, user.id, now, HEARTBEAT_CAP, today, known=True)


def _ping(conn, user_id: int, now: datetime, cap: timedelta, today: ActivityDay | None, known: bool) -> None:
    if today is None:
        conn.execute(upsert(ActivityDay, conn).values(user_id=user_id, day=now.date(), seconds=0, lessons_completed=0, last_ping_at=now)
                     .on_conflict_do_nothing(index_elements=["user_id", "day"]))
        return
    last = today.last_ping_at
    elapsed = (now - last) if last else None
    add = 0
    if elapsed is not None and timedelta(0) < elapsed <= VISIT_GAP:
        add = int(min(elapsed, cap).total_seconds())
    stmt = sa.update(ActivityDay).where(ActivityDay.id == today.id)
    # Only if nobody else pinged in between (a heartbeat racing a page view): never count time twice.
    stmt = stmt.where(ActivityDay.last_ping_at == last) if last is not None else stmt.where(ActivityDay.last_ping_at.is_(None))
    conn.execute(stmt.values(seconds=ActivityDay.seconds + add, last_ping_at=now))


def complete_lesson(user: User, course: Course, lesson: Lesson, now: datetime | None = None) -> bool:
    """Mark the lesson done; True when this call recorded it, False when it already was (double submit,
    retry, another tab). The unique (user, lesson) pair with INSERT ... ON CONFLICT DO NOTHING makes
    this safe under concurrency on SQLite and PostgreSQL; the counters move only for the one insert."""
    now = now or utcnow()
    # RETURNING gives a row only for the one call that inserted (rowcount is not reliable for this on every driver)
    inserted = db.session.execute(
        upsert(LessonCompletion).values(user_id=user.id, lesson_id=lesson.id, course_id=course.id, completed_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id"]).returning(LessonCompletion.id)
    ).scalar() is not None
    db.session.execute(sa.update(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
                       .values(last_lesson_id=lesson.id, last_seen_at=now).execution_options(synchronize_session=False))
    if not inserted:
        return False
    db.session.execute(
        upsert(ActivityDay).values(user_id=user.id, day=now.date(), seconds=0, lessons_completed=1, last_ping_at=now)
        .on_conflict_do_update(index_elements=["user_id", "day"], set_={"lessons_completed": ActivityDay.lessons_completed + 1})
    )
    # assessments completes the course (every lesson done, the quiz passed) and issues the certificate;
    # progress queues the halfway / completed mails, each once per course
    lesson_completed.send(user, course=course, now=now)
    return True


def save_answer(user: User, lesson: Lesson, text: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    db.session.execute(
        upsert(PracticeAnswer).values(user_id=user.id, lesson_id=lesson.id, answer=text, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=["user_id", "lesson_id"], set_={"answer": text, "updated_at": now})
    )


def lesson_for_post(course_slug: str, lesson_slug: str, user: User) -> tuple[Course, Lesson, Enrollment | None]:
    row = db.session.execute(
        sa.select(Course, Lesson, Enrollment)
        .join(Lesson, Lesson.course_id == Course.id)
        .outerjoin(Enrollment, sa.and_(Enrollment.course_id == Course.id, Enrollment.user_id == user.id))
        .where(_opened_by(course_slug, user), Lesson.slug == lesson_slug, Lesson.archived.is_(False))
    ).first()
    if row is None:
        abort(404)
    return tuple(row)


# --- dashboard -------------------------------------------------------------------------------------

@dataclass
class MyCourse:
    course: Course
    done: int
    started_at: datetime
    completed_at: datetime | None
    last_seen_at: datetime | None

    @property
    def percent(self) -> int:
        total = self.course.lesson_count
        return min(100, round(100 * self.done / total)) if total else 0


@dataclass
class DayBar:
    day: date
    seconds: int
    lessons: int

    @property
    def minutes(self) -> int:
        return round(self.seconds / 60)


def my_courses(user: User) -> list[MyCourse]:
    done = _done_counts(user.id)
    rows = db.session.execute(
        sa.select(Course, sa.func.coalesce(done.c.done, 0), Enrollment.created_at, Enrollment.completed_at, Enrollment.last_seen_at)
        .join(Enrollment, sa.and_(Enrollment.course_id == Course.id, Enrollment.user_id == user.id))
        .outerjoin(done, done.c.course_id == Course.id)
        .where(visible_courses(user, include_drafts=True))
        .order_by(sa.func.coalesce(Enrollment.last_seen_at, Enrollment.created_at).desc())
    ).all()
    return [MyCourse(*row) for row in rows]


def activity(user: User, today: date | None = None, days: int = 7) -> tuple[list[DayBar], int]:
    """The last ``days`` days (oldest first) and the current streak: consecutive active days ending today
    (or yesterday, so a streak is not lost before today's learning)."""
    today = today or utcnow().date()
    since = today - timedelta(days=365)
    rows = db.session.execute(
        sa.select(ActivityDay.day, ActivityDay.seconds, ActivityDay.lessons_completed)
        .where(ActivityDay.user_id == user.id, ActivityDay.day >= since, ActivityDay.day <= today)
    ).all()
    by_day = {d: (s, n) for d, s, n in rows}
    bars = [DayBar(d, *by_day.get(d, (0, 0))) for d in (today - timedelta(days=i) for i in range(days - 1, -1, -1))]
    active = {d for d, (s, n) in by_day.items() if s >= 60 or n > 0}
    day = today if today in active else today - timedelta(days=1)
    streak = 0
    while day in active:
        streak += 1
        day -= timedelta(days=1)
    return bars, streak
