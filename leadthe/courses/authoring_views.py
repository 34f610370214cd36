"""Authoring pages: one blueprint registered twice (``create_app``) with the same forms and services,
/staff/courses for LeadThe.AI staff (platform courses) and /admin/courses for company admins (their private
courses). Each registration names its guard and whose courses it edits:

    app.register_blueprint(authoring_bp, name="staff_authoring", url_prefix="/staff",
                           guard=staff_required, owner_of=lambda user: None)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from leadthe.courses import authoring
from leadthe.courses.content import render_markdown
from leadthe.courses.forms import CourseForm, LessonForm, ModuleForm
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import render, render_form, see_other
from leadthe.query_args import int_arg


authoring_bp = Blueprint("authoring", __name__)
_REGISTRATIONS = "leadthe.authoring"


@dataclass(frozen=True)
class Registration:
    guard: Callable  # a view decorator: who may author here
    owner_of: Callable  # user -> the org_id authored for (None: platform courses)


@authoring_bp.record
def _remember(state) -> None:
    """Keep each registration's guard and owner, by its registered name (``request.blueprint``)."""
    guard, owner_of = state.options.get("guard"), state.options.get("owner_of")
    if guard is None or owner_of is None:
        raise TypeError("register authoring_bp with guard= and owner_of=")
    state.app.extensions.setdefault(_REGISTRATIONS, {})[state.name] = Registration(guard, owner_of)


def _registration() -> Registration:
    return current_app.extensions[_REGISTRATIONS][request.blueprint]


def _owner():
    return _registration().owner_of(current_user)


def guarded(view):
    """The registration's guard around ``view``, chosen per request by the blueprint it was reached through."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return _registration().guard(view)(*args, **kwargs)

    return wrapper


def _ctx(**extra):
    return {"area": request.blueprint, **extra}


def course_data(form):
    return {"title": form.title.data, "slug": form.slug.data or "", "summary": form.summary.data or "",
            "topic": form.topic.data, "level": form.level.data, "audience": form.audience.data or "everyone",
            "body": form.body.data or "", "objectives": form.objectives.data or ""}


def lesson_data(form):
    return {"title": form.title.data, "slug": form.slug.data or "", "module_id": form.module_id.data,
            "kind": form.kind.data, "minutes": form.minutes.data, "body": form.body.data or "",
            "prompt": form.prompt.data or "", "video_url": form.video_url.data or "", "transcript": form.transcript.data or ""}


def moved(course_id, item_id, item_or_404, move):
    """Move a module or lesson of the course one place up or down (the form's direction); the course and it."""
    course = authoring.course_or_404(course_id, _owner())
    item = item_or_404(course, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    move(course, item, request.form.get("direction", "down"))
    return course, item


def preview_of(form_field):
    return render_markdown(form_field.data or "") if request.form.get("action") == "preview" else None


@authoring_bp.route("/courses", endpoint="courses")
@guarded
def courses():
    return render("authoring/list.html", **_ctx(courses=authoring.courses_of(_owner())))


@authoring_bp.route("/courses/new", methods=["GET", "POST"], endpoint="new_course")
@guarded
def new_course():
    form = CourseForm()
    preview = preview_of(form.body)
    if preview is None and form.validate_on_submit():
        if form.slug.data and authoring.slug_taken(form.slug.data, _owner()):
            form.slug.errors.append(_("Another course already uses this address name."))
        else:
            course = authoring.save_course(None, _owner(), course_data(form))
            db.session.flush()
            flash(_("Course created as a draft. Add modules and lessons, then publish it."), "success")
            return see_other(url_for(".edit_course", course_id=course.id))
    return render_form("authoring/course_form.html", form, **_ctx(course=None, preview=preview))


@authoring_bp.route("/courses/<int:course_id>", methods=["GET", "POST"], endpoint="edit_course")
@guarded
def edit_course(course_id):
    course = authoring.course_or_404(course_id, _owner())
    form = CourseForm(obj=None if request.method == "POST" else course)
    if request.method == "GET":
        form.body.data = course.description_md
        form.objectives.data = "\n".join(course.objectives or [])
    preview = preview_of(form.body)
    if preview is None and form.validate_on_submit():
        if form.slug.data and authoring.slug_taken(form.slug.data, _owner(), course):
            form.slug.errors.append(_("Another course already uses this address name."))
        else:
            authoring.save_course(course, _owner(), course_data(form))
            db.session.flush()
            flash(_("Course saved."), "success")
            return see_other(url_for(".edit_course", course_id=course.id))
    return render_form("authoring/course_form.html", form, **_ctx(
        course=course, preview=preview, structure=authoring.structure(course), module_form=ModuleForm(formdata=None),
        button=EmptyForm()))


@authoring_bp.route("/courses/preview", methods=["POST"], endpoint="preview_markdown")
@guarded
def preview_markdown():
    if not EmptyForm().validate_on_submit():
        abort(400)
    text = request.form.get("body", "")[:200_000]
    return render("authoring/_preview.html", preview=render_markdown(text))


@authoring_bp.route("/courses/<int:course_id>/publish", methods=["POST"], endpoint="publish_course")
@guarded
def publish_course(course_id):
    course = authoring.course_or_404(course_id, _owner())
    if not EmptyForm().validate_on_submit():
        abort(400)
    publish = request.form.get("publish") == "1"
    if publish and course.lesson_count == 0:
        flash(_("Add at least one lesson before publishing."), "error")
    else:
        authoring.set_published(course, publish)
        db.session.flush()
        flash(_("Published: learners can now find this course.") if publish else _("Unpublished: the course is hidden from learners; their progress is kept."), "success")
    return see_other(url_for(".edit_course", course_id=course.id))


@authoring_bp.route("/courses/<int:course_id>/modules/new", methods=["POST"], endpoint="new_module")
@authoring_bp.route("/courses/<int:course_id>/modules/<int:module_id>", methods=["GET", "POST"], endpoint="edit_module")
@guarded
def edit_module(course_id, module_id=None):
    course = authoring.course_or_404(course_id, _owner())
    module = authoring.module_or_404(course, module_id) if module_id else None
    form = ModuleForm(obj=None if request.method == "POST" else module)
    if request.method == "GET" and module is not None:
        form.body.data = module.body_md
    if form.validate_on_submit():
        authoring.save_module(course, module, {"title": form.title.data, "body": form.body.data or ""})
        db.session.flush()
        flash(_("Module saved."), "success")
        return see_other(url_for(".edit_course", course_id=course.id))
    return render_form("authoring/module_form.html", form, **_ctx(course=course, module=module))


@authoring_bp.route("/courses/<int:course_id>/modules/<int:module_id>/move", methods=["POST"], endpoint="move_module")
@guarded
def move_module(course_id, module_id):
    course, module = moved(course_id, module_id, authoring.module_or_404, authoring.move_module)
    db.session.flush()
    return see_other(url_for(".edit_course", course_id=course.id) + f"#module-{module.id}")


@authoring_bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"], endpoint="new_lesson")
@authoring_bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>", methods=["GET", "POST"], endpoint="edit_lesson")
@guarded
def edit_lesson(course_id, lesson_id=None):
    course = authoring.course_or_404(course_id, _owner())
    lesson = authoring.lesson_or_404(course, lesson_id) if lesson_id else None
    modules = [m for m, _ in authoring.structure(course)]
    if not modules:
        flash(_("Add a module first: every lesson belongs to one."), "info")
        return see_other(url_for(".edit_course", course_id=course.id))
    form = LessonForm(obj=None if request.method == "POST" else lesson)
    form.module_id.choices = {m.id: m.title for m in modules}
    if lesson is not None and lesson.kind == "exercise":
        # an exercise (task, material, rubric) comes from the content folder; its title, text and minutes can be
        # edited here, the exercise itself stays as it is. A new lesson cannot be made an exercise here.
        form.kind.choices = [*form.kind.choices, SelectChoice("exercise", _("Exercise (practice lab)"))]
    if request.method == "GET":
        if lesson is not None:
            form.body.data, form.transcript.data = lesson.body_md, lesson.transcript_md
        elif int_arg("module") in form.module_id.choices:
            form.module_id.data = int_arg("module")
    preview = preview_of(form.body)
    if preview is None and form.validate_on_submit():
        if form.slug.data and authoring.lesson_slug_taken(course, form.slug.data, lesson):
            form.slug.errors.append(_("Another lesson of this course already uses this address name."))
        else:
            authoring.save_lesson(course, lesson, lesson_data(form))
            db.session.flush()
            flash(_("Lesson saved."), "success")
            return see_other(url_for(".edit_course", course_id=course.id))
    return render_form("authoring/lesson_form.html", form, **_ctx(course=course, lesson=lesson, preview=preview))


@authoring_bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/move", methods=["POST"], endpoint="move_lesson")
@guarded
def move_lesson(course_id, lesson_id):
    course, lesson = moved(course_id, lesson_id, authoring.lesson_or_404, authoring.move_lesson)
    db.session.flush()
    return see_other(url_for(".edit_course", course_id=course.id) + f"#lesson-{lesson.id}")
