"""Authoring writes shared by the staff console (platform courses) and company admins (private courses).

``owner`` is the org_id the author works for: None for platform staff, the company's id for an admin.
Every lookup is limited to that owner, so an admin can never reach a platform course or another
company's course (404), and staff never edit a company's private course.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from leadthe.courses.content import apply_course, apply_lesson, apply_module, refresh_course_totals, slugify
from leadthe.extensions import db
from leadthe.models import Course, CourseModule, Lesson


def _owner_clause(owner: int | None):
    return Course.org_id.is_(None) if owner is None else Course.org_id == owner


def courses_of(owner: int | None) -> list[Course]:
    return list(db.session.scalars(sa.select(Course).where(_owner_clause(owner)).order_by(Course.position, Course.title)))


def course_or_404(course_id: int, owner: int | None) -> Course:
    course = db.session.scalar(sa.select(Course).where(Course.id == course_id, _owner_clause(owner)))
    if course is None:
        abort(404)
    return course


def module_or_404(course: Course, module_id: int) -> CourseModule:
    module = db.session.scalar(sa.select(CourseModule).where(CourseModule.id == module_id, CourseModule.course_id == course.id))
    if module is None:
        abort(404)
    return module


def lesson_or_404(course: Course, lesson_id: int) -> Lesson:
    lesson = db.session.scalar(sa.select(Lesson).where(Lesson.id == lesson_id, Lesson.course_id == course.id))
    if lesson is None:
        abort(404)
    return lesson


def structure(course: Course) -> list[tuple[CourseModule, list[Lesson]]]:
    modules = db.session.scalars(sa.select(CourseModule).where(CourseModule.course_id == course.id, CourseModule.archived.is_(False))
                                 .order_by(CourseModule.position, CourseModule.id)).all()
    lessons = db.session.scalars(sa.select(Lesson).where(Lesson.course_id == course.id, Lesson.archived.is_(False))
                                 .order_by(Lesson.position, Lesson.id)).all()
    by_module: dict[int, list[Lesson]] = {m.id: [] for m in modules}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(lesson)
    return [(m, by_module[m.id]) for m in modules]


def slug_taken(slug: str, owner: int | None, course: Course | None = None) -> bool:
    """Whether a course of ``owner`` may not take this address: staff share theirs with the platform's
    courses; a company admin with the company's own and the platform's (which the company's people see, and
    which a course of theirs would hide). Other companies' courses never count: a refusal would give them away."""
    owners = Course.org_id.is_(None) if owner is None else sa.or_(Course.org_id.is_(None), Course.org_id == owner)
    stmt = sa.select(Course.id).where(Course.slug == slug, owners)
    if course is not None and course.id:
        stmt = stmt.where(Course.id != course.id)
    return db.session.scalar(stmt) is not None


def free_course_slug(title: str, owner: int | None) -> str:
    base = slugify(title, 70)
    slug, n = base, 2
    while slug_taken(slug, owner):
        slug, n = f"{base}-{n}", n + 1
    return slug


def save_course(course: Course | None, owner: int | None, data: dict) -> Course:
    if course is None:
        course = Course(org_id=owner, published=False)
        course.slug = data.get("slug") or free_course_slug(data["title"], owner)
        course.position = (db.session.scalar(sa.select(sa.func.max(Course.position)).where(_owner_clause(owner))) or 0) + 1
        db.session.add(course)
    elif data.get("slug"):
        course.slug = data["slug"]
    apply_course(course, data)
    db.session.flush()
    refresh_course_totals(course)
    return course


def save_module(course: Course, module: CourseModule | None, data: dict) -> CourseModule:
    if module is None:
        position = (db.session.scalar(sa.select(sa.func.max(CourseModule.position)).where(CourseModule.course_id == course.id)) or 0) + 1
        base = slugify(data["title"], 70)
        taken = set(db.session.scalars(sa.select(CourseModule.slug).where(CourseModule.course_id == course.id)))
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        module = CourseModule(course_id=course.id, slug=slug, position=position)
        db.session.add(module)
    apply_module(module, data)
    db.session.flush()
    refresh_course_totals(course)
    return module


def lesson_slug_taken(course: Course, slug: str, lesson: Lesson | None) -> bool:
    stmt = sa.select(Lesson.id).where(Lesson.course_id == course.id, Lesson.slug == slug)
    if lesson is not None and lesson.id:
        stmt = stmt.where(Lesson.id != lesson.id)
    return db.session.scalar(stmt) is not None


def save_lesson(course: Course, lesson: Lesson | None, data: dict) -> Lesson:
    module = module_or_404(course, data["module_id"])
    if lesson is None:
        slug = data.get("slug") or slugify(data["title"], 70)
        base, n = slug, 2
        while lesson_slug_taken(course, slug, None):
            slug, n = f"{base}-{n}", n + 1
        position = (db.session.scalar(sa.select(sa.func.max(Lesson.position)).where(Lesson.module_id == module.id)) or 0) + 1
        lesson = Lesson(course_id=course.id, module_id=module.id, slug=slug, position=position)
        db.session.add(lesson)
    elif data.get("slug"):
        lesson.slug = data["slug"]
    if lesson.module_id != module.id:
        lesson.module_id = module.id
        lesson.position = (db.session.scalar(sa.select(sa.func.max(Lesson.position)).where(Lesson.module_id == module.id)) or 0) + 1
    apply_lesson(lesson, data)
    db.session.flush()
    refresh_course_totals(course)
    return lesson


def _swap(rows: list, item, direction: str) -> bool:
    index = rows.index(item)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        row.position = position
    return True


def move_module(course: Course, module: CourseModule, direction: str) -> bool:
    rows = [m for m, _ in structure(course)]
    moved = _swap(rows, module, direction)
    refresh_course_totals(course)
    return moved


def move_lesson(course: Course, lesson: Lesson, direction: str) -> bool:
    rows = list(db.session.scalars(sa.select(Lesson).where(Lesson.module_id == lesson.module_id, Lesson.archived.is_(False))
                                   .order_by(Lesson.position, Lesson.id)))
    moved = _swap(rows, lesson, direction)
    refresh_course_totals(course)
    return moved


def set_published(course: Course, published: bool) -> None:
    course.published = published
