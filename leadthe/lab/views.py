"""The practice lab on an exercise lesson: send a prompt to the company's model, the answer as it arrives,
cancel, and feedback against the rubric. The lesson page itself is the courses area's; it includes
``templates/lab/_lab.html`` (see ``leadthe.lab.page``).

Every route: signed in, a person of a company, enrolled in the course, and the lesson an exercise (else 404).
Without JavaScript: plain forms, 303 back to the lesson (``?run=<id>#lab``), and the page refreshes itself
while an answer is being written. With htmx: the same URLs answer the lab section (``#lab``) or the answer
(``#lab-answer``) as a fragment.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from leadthe.account.preferences import ui_preferences
from leadthe.courses import services as courses
from leadthe.database import refuse_request
from leadthe.extensions import db
from leadthe.htmx import is_htmx, render, see_other, wants_fragment
from leadthe.lab import bp, checks, guard, page as lab_page, provider, quotas, runner
from leadthe.lab.forms import PromptForm
from leadthe.models.enums import GuardMode, LabRunKind


@bp.app_template_global("lab_panel")
def lab_panel(page):
    return lab_page.for_page(page)


def _exercise_lesson(slug, lesson):
    """(course, lesson, exercise) for the lab's routes, or 404 (another company's course, not enrolled, not
    an exercise); 403 for platform staff, who belong to no company."""
    if current_user.org_id is None:
        abort(403)
    course, lesson_row, enrollment = courses.lesson_for_post(slug, lesson, current_user)
    ex = lab_page.exercises.of(lesson_row)
    if enrollment is None or ex is None:
        abort(404)
    return course, lesson_row, ex


def _lesson_url(course, lesson, run=None) -> str:
    args = {"run": run.id} if run is not None else {}
    return url_for("courses.lesson", slug=course.slug, lesson=lesson.slug, **args) + "#lab"


def _respond(course, lesson, panel, status=200, headers=None, whole_body=False):
    """The lab section (htmx), or the whole lesson page with the lab as ``panel`` says. ``whole_body``: htmx
    gets the lesson's body instead (with the progress bar and the outline updated out of band: a pass)."""
    lab_page.remember(panel)
    if wants_fragment() and not whole_body:
        body, _status = render("lab/_lab.html", block="lab", lab=panel)
        return body, 200, {"Vary": "HX-Request", **(headers or {})}
    page = courses.player_page(course.slug, lesson.slug, current_user)
    if wants_fragment():
        body, _status = render("courses/lesson.html", block="lesson_body", page=page, course=page.course,
                               lesson=page.lesson, answer_form=None, saved=False, oob=True, finished=None,
                               low_data=bool(ui_preferences()["low_data"]))
        return body, 200, {"Vary": "HX-Request", "HX-Retarget": "#lesson-body", "HX-Reswap": "innerHTML",
                           **(headers or {})}
    following = page.next
    panel.next_url = panel.next_url or (url_for("courses.lesson", slug=course.slug, lesson=following.slug)
                                        if following else None)
    panel.completed = panel.completed or page.completed_at is not None
    html, _status = render("courses/lesson.html", page=page, course=page.course, lesson=page.lesson, answer_form=None,
                           saved=False, low_data=bool(ui_preferences()["low_data"]), oob=False, finished=None)
    return html, status, headers or {}


def _fragment(block, panel):
    """A block of the lab's template for htmx (the caller checked ``wants_fragment()``)."""
    body, status = render("lab/_lab.html", block=block, lab=panel)
    return body, status, {"Vary": "HX-Request"}


def _refused(course, lesson, panel):
    """The prompt was not sent (invalid, personal data found, quota, pause): the form as posted, 422 (200 for
    htmx, which swaps only 2xx)."""
    refuse_request()
    return _respond(course, lesson, panel, status=200 if is_htmx() else 422)


@bp.route("/courses/<slug>/lessons/<lesson>/lab/send", methods=["POST"])
@login_required
def send(slug, lesson):
    course, lesson_row, ex = _exercise_lesson(slug, lesson)
    form = PromptForm()
    panel = lab_page.build(course, lesson_row, current_user, form=form)
    if not form.validate_on_submit():
        return _refused(course, lesson_row, panel)
    prompt = form.prompt.data
    settings = panel.settings
    if request.form.get("placeholders"):
        # the text box comes back with the placeholders in; nothing is sent
        findings = guard.scan(current_user.org_id, prompt)
        form.prompt.data = guard.with_placeholders(prompt, findings)
        panel.replaced = bool(findings)
        return _respond(course, lesson_row, panel)
    if not settings.connected:
        panel.notice = _("Your company has not connected an AI model, so prompts are not sent. "
                         "Use “Get feedback” to check your prompt against the rubric.")
        return _refused(course, lesson_row, panel)
    if lab_page.paused(settings):
        panel.notice = str(provider.ERRORS["paused"])
        return _refused(course, lesson_row, panel)
    refusal = quotas.refusal(settings, current_user)
    if refusal:
        panel.notice = refusal
        return _refused(course, lesson_row, panel)
    findings = guard.scan(current_user.org_id, prompt)
    if findings:
        panel.findings = findings
        if settings.guard_mode == GuardMode.BLOCK:
            panel.blocked = True
            return _refused(course, lesson_row, panel)
        if not form.confirm.data:
            panel.confirm = True
            return _refused(course, lesson_row, panel)
    run = runner.create_run(current_user, lesson_row, prompt)
    if wants_fragment():
        form.confirm.data = False
        fresh = lab_page.build(course, lesson_row, current_user, form=form, run=run)
        return _respond(course, lesson_row, fresh)
    return see_other(_lesson_url(course, lesson_row, run))


@bp.route("/courses/<slug>/lessons/<lesson>/lab/runs/<int:run_id>")
@login_required
def run(slug, lesson, run_id):
    course, lesson_row, ex = _exercise_lesson(slug, lesson)
    found = lab_page.own_run_or_404(run_id, current_user, lesson_row)
    lab_page.refresh(found)
    if not wants_fragment():
        shown = found if found.kind == LabRunKind.ANSWER else None
        if shown is None and found.parent_id:
            shown = lab_page.own_run_or_404(found.parent_id, current_user, lesson_row)
        return redirect(_lesson_url(course, lesson_row, shown))
    if found.kind == LabRunKind.GRADING:
        panel = lab_page.LabPanel(course, lesson_row, ex, None, grading=found)
        return _fragment("lab_grading", panel)
    panel = lab_page.LabPanel(course, lesson_row, ex, None, run=found)
    return _fragment("lab_answer", panel)


@bp.route("/courses/<slug>/lessons/<lesson>/lab/runs/<int:run_id>/cancel", methods=["POST"])
@login_required
def cancel(slug, lesson, run_id):
    course, lesson_row, ex = _exercise_lesson(slug, lesson)
    found = lab_page.own_run_or_404(run_id, current_user, lesson_row)
    lab_page.cancel(found)  # (CSRFProtect checked the token already)
    if wants_fragment():
        panel = lab_page.LabPanel(course, lesson_row, ex, None, run=found)
        return _fragment("lab_answer", panel)
    return see_other(_lesson_url(course, lesson_row, found if found.kind == LabRunKind.ANSWER else None))


@bp.route("/courses/<slug>/lessons/<lesson>/lab/feedback", methods=["POST"])
@login_required
def feedback(slug, lesson):
    course, lesson_row, ex = _exercise_lesson(slug, lesson)
    form = PromptForm()
    latest = lab_page.latest_answer_run(current_user, lesson_row)
    panel = lab_page.build(course, lesson_row, current_user, form=form, run=latest)
    if not form.validate_on_submit():
        panel.evaluation = None
        return _refused(course, lesson_row, panel)
    prompt = form.prompt.data
    evaluation = checks.evaluate(ex, prompt)
    checked = lab_page.feedback_run(current_user, lesson_row, prompt, latest, evaluation)
    grading, withheld = _ask_model_feedback(panel.settings, lesson_row, prompt, checked, form.confirm.data)
    headers = {}
    if evaluation.passed:
        _record_pass(course, lesson_row, evaluation.score)
        headers["HX-Trigger"] = "progress-changed"
    db.session.flush()
    if wants_fragment():
        fresh = lab_page.build(course, lesson_row, current_user, form=form, run=checked)
        fresh.grading = grading or fresh.grading
        fresh.evaluation = evaluation
        fresh.passed_now = evaluation.passed
        fresh.notice = WITHHELD if withheld else ""
        if evaluation.passed:
            following = courses.player_page(course.slug, lesson_row.slug, current_user).next
            fresh.next_url = url_for("courses.lesson", slug=course.slug, lesson=following.slug) if following else None
        return _respond(course, lesson_row, fresh, headers=headers, whole_body=evaluation.passed)
    if evaluation.passed:
        flash(_("You passed this exercise: the lesson is complete."), "success")
    if withheld:
        flash(str(WITHHELD), "info")
    return see_other(_lesson_url(course, lesson_row, checked))


WITHHELD = _l("Model feedback was not asked for: your prompt contains personal data. "
              "Replace it with placeholders to get the model's feedback too.")


def _ask_model_feedback(settings, lesson, prompt, checked, confirmed) -> tuple:
    """(the grading run or None, whether it was withheld for personal data). The grading sends the prompt
    to the model too: not with personal data in it (block mode), nor without "send it anyway" (warn mode)."""
    if not (settings.model_feedback and settings.connected) or lab_page.paused(settings) or quotas.refusal(settings, current_user):
        return None, False
    findings = guard.scan(current_user.org_id, prompt)
    if findings and (settings.guard_mode == GuardMode.BLOCK or not confirmed):
        return None, True
    return runner.create_run(current_user, lesson, prompt, kind=LabRunKind.GRADING, parent=checked), False


def _record_pass(course, lesson, score: int) -> None:
    """A pass completes the lesson; the first one counts as an exercise passed (``quotas.record_pass``)."""
    if not courses.complete_lesson(current_user, course, lesson):
        return
    quotas.record_pass(current_user, score)


@bp.app_template_global("lab_error")
def lab_error(code: str) -> str:
    return str(provider.ERRORS.get(code) or _("The answer could not be completed. Your prompt is kept: try again."))
