from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _

from leadthe.account.preferences import ui_preferences
from leadthe.assessments.services import course_quiz_card
from leadthe.courses import bp, services
from leadthe.courses.forms import AnswerForm
from leadthe.courses.search import record_search, search
from leadthe.extensions import db
from leadthe.forms import EmptyForm
from leadthe.htmx import is_htmx, render, see_other, wants_fragment
from leadthe.literacy.people import required_course_ids
from leadthe.models.course import LEVELS
from leadthe.query_args import page_arg


@bp.route("/courses")
@login_required
def catalogue():
    topic = request.args.get("topic", "").strip()[:40]
    level = request.args.get("level", "").strip()
    level = level if level in LEVELS else ""
    length = request.args.get("length", "")
    length = length if length in services.LENGTHS else ""
    page = page_arg()
    cards, total = services.catalogue(current_user, topic=topic, level=level, length=length, page=page)
    return render("courses/catalogue.html", block="course_list", cards=cards, total=total, page=page,
                  per_page=services.PER_PAGE, facets=services.catalogue_facets(current_user),
                  lengths=services.LENGTHS, chosen={"topic": topic, "level": level, "length": length},
                  required=required_course_ids(current_user))


@bp.route("/courses/saved")
@login_required
def saved():
    """Courses saved for offline in this browser: the list lives in the browser (static/js/offline.js)."""
    return render("courses/saved.html")


@bp.route("/courses/<slug>")
@login_required
def course(slug):
    course = services.get_course_or_404(slug, current_user)
    items = services.outline(course.id, current_user.id)
    enrollment = services.enrollment_of(current_user.id, course.id)
    modules = services.course_modules(course.id)
    done = sum(1 for i in items if i.completed_at)

    return render("courses/course.html", course=course, groups=services.group_by_module(items), modules=modules,
                  enrollment=enrollment, done=done, total=len(items), form=EmptyForm(),
                  following=services.next_open_lesson(items) if enrollment else None,
                  can_edit=services.can_edit(current_user, course), quiz_card=course_quiz_card(current_user, course))


@bp.route("/courses/<slug>/enroll", methods=["POST"])
@login_required
def enroll(slug):
    course = services.get_course_or_404(slug, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.enroll(current_user, course)
    db.session.flush()
    return see_other(url_for("courses.resume", slug=course.slug))


@bp.route("/courses/<slug>/resume")
@login_required
def resume(slug):
    course = services.get_course_or_404(slug, current_user)
    enrollment = services.enrollment_of(current_user.id, course.id)
    if enrollment is None:
        return redirect(url_for("courses.course", slug=slug))
    items = services.outline(course.id, current_user.id)
    if not items:
        flash(_("This course has no lessons yet."), "info")
        return redirect(url_for("courses.course", slug=slug))
    # the first lesson not yet completed, in course order (not the last one opened)
    target = services.next_open_lesson(items)
    if target is not None:
        return redirect(url_for("courses.lesson", slug=slug, lesson=target.slug))
    return redirect(_course_finished(course))


def _course_finished(course) -> str:
    """Every lesson is done: say so, and point at the final quiz while it is still to pass, else the course page."""
    card = course_quiz_card(current_user, course)
    if card is not None and not card.passed and card.attempts_left != 0:
        flash(_("You finished every lesson of this course. Pass the final quiz to complete it."), "success")
        return url_for("assessments.quiz", quiz_id=card.quiz.id)
    flash(_("You finished every lesson of this course."), "success")
    return url_for("courses.course", slug=course.slug)


def _lesson_response(page, form=None, saved=False, status=200, template_block="lesson_body", finished=None):
    # the answer form only where there is something to answer (a form costs a CSRF token and its fields)
    answer_form = form or (_answer_form(page) if page.lesson.kind == "practice" else None)
    return render("courses/lesson.html", block=template_block, status=status, page=page, course=page.course,
                  lesson=page.lesson, answer_form=answer_form, saved=saved,
                  low_data=bool(ui_preferences()["low_data"]), oob=wants_fragment(), finished=finished)


def _answer_form(page):
    form = AnswerForm(formdata=None)
    if page.answer is not None:
        form.answer.data = page.answer.answer
    return form


@bp.route("/courses/<slug>/lessons/<lesson>")
@login_required
def lesson(slug, lesson):
    page = services.player_page(slug, lesson, current_user)
    if page.enrollment is None:
        flash(_("Start the course to open its lessons."), "info")
        return see_other(url_for("courses.course", slug=slug))
    services.record_lesson_view(page, current_user)
    return _lesson_response(page)


@bp.route("/courses/<slug>/lessons/<lesson>/complete", methods=["POST"])
@login_required
def complete(slug, lesson):
    course, lesson_row, enrollment = services.lesson_for_post(slug, lesson, current_user)
    if enrollment is None:
        return see_other(url_for("courses.course", slug=slug))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if lesson_row.kind == "exercise":  # completed by passing it in the lab, never by a button
        flash(_("Pass the exercise to complete this lesson: write your prompt, then ask for feedback."), "info")
        return see_other(url_for("courses.lesson", slug=slug, lesson=lesson) + "#lab")
    services.complete_lesson(current_user, course, lesson_row)
    db.session.flush()
    page = services.player_page(slug, lesson, current_user)
    following = services.next_open_lesson(page.items, after_id=lesson_row.id)
    if following is None:
        return see_other(_course_finished(course))
    url = url_for("courses.lesson", slug=slug, lesson=following.slug)
    if wants_fragment():
        # the next lesson takes the lesson area's place; the outline marks the one just done
        body, status = _lesson_response(services.player_page(slug, following.slug, current_user),
                                        finished=page.items[page.index])
        return body, status, {"HX-Trigger": "progress-changed", "HX-Push-Url": url}
    flash(_("“%(title)s” is done.", title=lesson_row.title), "success")
    return see_other(url)


@bp.route("/courses/<slug>/lessons/<lesson>/answer", methods=["POST"])
@login_required
def answer(slug, lesson):
    course, lesson_row, enrollment = services.lesson_for_post(slug, lesson, current_user)
    if enrollment is None or lesson_row.kind != "practice":
        abort(404)
    form = AnswerForm()
    if form.validate_on_submit():
        services.save_answer(current_user, lesson_row, form.answer.data)
        db.session.flush()
        if not is_htmx():
            flash(_("Your answer is saved. You can come back and change it at any time."), "success")
            return see_other(url_for("courses.lesson", slug=slug, lesson=lesson) + "#practice")
        return _lesson_response(services.player_page(slug, lesson, current_user), saved=True)
    page = services.player_page(slug, lesson, current_user)
    body, _status = _lesson_response(page, form=form)
    return body, (200 if is_htmx() else 422)


@bp.route("/activity/heartbeat", methods=["POST"])
@login_required
def heartbeat():
    services.heartbeat(current_user)
    db.session.flush()
    return "", 204


@bp.route("/search")
@login_required
def search_page():
    query = request.args.get("q", "")[:200]
    hits = search(current_user, query) if query.strip() else []
    if query.strip():
        record_search(current_user, request, query, len(hits))
    return render("courses/search.html", block="search_results", query=query, hits=hits)
