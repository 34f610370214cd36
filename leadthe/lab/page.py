"""What the lab section of an exercise lesson shows (``LabPanel``), and the reads and writes behind it.

The lesson page (``courses.lesson``) includes ``templates/lab/_lab.html`` for exercise lessons; the template
asks for its panel through the ``lab_panel(page)`` template global, kept per request in ``g`` (the page's
``<head>`` asks too, for the no-JavaScript refresh while an answer is being written). The lab's own views
(``leadthe.lab.views``) build the panel themselves (with the form as posted, the guard's findings, a
refusal) and put it in ``g`` before they render the page or a fragment.

Feedback ("Get feedback") is stored on the learner's latest answer run of the lesson when its prompt is the
one in the text box; otherwise (the prompt was revised since, nothing was sent yet, or no model is connected)
on a new answer run that is ``done`` at once, with no model call and no answer (``LabPanel.checked_only``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import abort, g, request, url_for
from flask_login import current_user

from leadthe.extensions import db
from leadthe.lab import checks, exercise as exercises, runner, settings as lab_settings
from leadthe.lab.forms import PromptForm
from leadthe.models import utcnow
from leadthe.models.enums import LabRunKind, LabRunStatus
from leadthe.models.lab import LabRun, LabSettings
from leadthe.tenancy import get_or_404, scoped

WORKING = (LabRunStatus.QUEUED, LabRunStatus.RUNNING)


@dataclass
class LabPanel:
    course: object
    lesson: object
    exercise: exercises.Exercise | None
    settings: LabSettings | None
    form: PromptForm | None = None
    run: LabRun | None = None  # the answer run shown
    grading: LabRun | None = None  # the model's feedback on ``run``
    evaluation: checks.Evaluation | None = None  # the rubric checks of ``run``'s prompt
    findings: list = field(default_factory=list)  # the guard's findings in the posted prompt
    blocked: bool = False  # block mode refused the prompt
    confirm: bool = False  # warn mode: the learner must tick "send it anyway"
    replaced: bool = False  # the findings were just replaced with placeholders
    notice: str = ""  # why the prompt was not sent (quota, pause, no model)
    passed_now: bool = False  # this request's feedback passed the exercise
    next_url: str | None = None
    completed: bool = False

    @property
    def member(self) -> bool:
        return self.settings is not None

    @property
    def connected(self) -> bool:
        return bool(self.settings is not None and self.settings.connected)

    @property
    def model_label(self) -> str:
        s = self.settings
        return (s.provider_name or s.model) if s is not None else ""

    @property
    def working(self) -> bool:
        return any(r is not None and r.status in WORKING for r in (self.run, self.grading))

    @property
    def refresh_url(self) -> str:
        """Where the page without JavaScript refreshes to while an answer is being written: the lesson with
        the run and a counter (a refresh to the same URL with ``#lab`` would only scroll, never reload)."""
        raw = request.args.get("poll", "0")
        count = int(raw) + 1 if raw.isascii() and raw.isdigit() and len(raw) < 6 else 1
        args = {"run": self.run.id} if self.run is not None else {}
        return url_for("courses.lesson", slug=self.course.slug, lesson=self.lesson.slug, poll=count, **args) + "#lab"

    @property
    def checked_only(self) -> bool:
        """The shown run was only checked against the rubric, never sent to the model."""
        r = self.run
        return r is not None and r.status == LabRunStatus.DONE and r.started_at is None and not r.answer

    @property
    def model_feedback(self):
        return model_feedback(self.grading, self.exercise)

    @property
    def criteria(self) -> list[str]:
        return [checks.criterion_label(c) for c in self.exercise.criteria] if self.exercise else []


def refresh(run: LabRun | None) -> None:
    """A dead run (its worker gone) becomes a failed one before it is shown (``runner.refresh``)."""
    if run is not None and run.status in WORKING:
        runner.refresh(run)


def latest_answer_run(user, lesson) -> LabRun | None:
    return db.session.scalar(
        scoped(LabRun, user.org_id).where(LabRun.user_id == user.id, LabRun.lesson_id == lesson.id,
                                          LabRun.kind == LabRunKind.ANSWER)
        .order_by(LabRun.created_at.desc(), LabRun.id.desc()).limit(1))


def grading_of(run: LabRun | None) -> LabRun | None:
    if run is None:
        return None
    return db.session.scalar(
        scoped(LabRun, run.org_id).where(LabRun.parent_id == run.id, LabRun.kind == LabRunKind.GRADING)
        .order_by(LabRun.created_at.desc(), LabRun.id.desc()).limit(1))


def own_run_or_404(run_id, user, lesson) -> LabRun:
    """The person's own run of this lesson; another person's (in the company or not) is a 404."""
    run = get_or_404(LabRun, run_id, user.org_id)
    if run.user_id != user.id or run.lesson_id != lesson.id:
        abort(404)
    return run


def requested_run(user, lesson) -> LabRun | None:
    """The run named by ``?run=`` on the lesson page when it is the person's own answer run of the lesson."""
    raw = request.args.get("run", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return None
    run = db.session.scalar(scoped(LabRun, user.org_id).where(
        LabRun.id == int(raw), LabRun.user_id == user.id, LabRun.lesson_id == lesson.id, LabRun.kind == LabRunKind.ANSWER))
    return run


def build(course, lesson, user, *, form: PromptForm | None = None, run: LabRun | None = None, next_url=None,
          completed: bool = False) -> LabPanel:
    ex = exercises.of(lesson)
    if user.org_id is None:  # platform staff: the exercise, without the lab
        return LabPanel(course, lesson, ex, None, next_url=next_url, completed=completed)
    settings = lab_settings.for_org(user.org_id)
    run = run or requested_run(user, lesson) or latest_answer_run(user, lesson)
    refresh(run)
    grading = grading_of(run)
    refresh(grading)
    if form is None:
        form = PromptForm(formdata=None)
        form.prompt.data = run.prompt if run is not None else ""
    panel = LabPanel(course, lesson, ex, settings, form=form, run=run, grading=grading, next_url=next_url,
                     completed=completed)
    if run is not None and run.checks is not None and ex is not None:
        panel.evaluation = checks.evaluate(ex, run.prompt)
    return panel


def for_page(page) -> LabPanel:
    """The panel of the lesson page ``page`` (a ``courses.services.PlayerPage``), once per request."""
    cache = g.setdefault("lab_panels", {})
    if page.lesson.id not in cache:
        following = page.next
        next_url = url_for("courses.lesson", slug=page.course.slug, lesson=following.slug) if following else None
        cache[page.lesson.id] = build(page.course, page.lesson, current_user, next_url=next_url,
                                      completed=page.completed_at is not None)
    return cache[page.lesson.id]


def remember(panel: LabPanel) -> None:
    g.setdefault("lab_panels", {})[panel.lesson.id] = panel


def paused(settings: LabSettings) -> bool:
    until = settings.paused_until
    if until is None:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    return until > datetime.now(timezone.utc)


def cancel(run: LabRun) -> None:
    """Stop a run: one still queued ends at once; a running one stops at the runner's next piece."""
    if run.status == LabRunStatus.QUEUED:
        run.status = LabRunStatus.CANCELLED
        run.error_code = "cancelled"
        run.finished_at = utcnow()
    elif run.status == LabRunStatus.RUNNING:
        run.cancel_requested = True
    db.session.flush()


def feedback_run(user, lesson, prompt: str, latest: LabRun | None, evaluation) -> LabRun:
    """The answer run the rubric checks of ``prompt`` are stored on (see the module's docstring)."""
    run = latest if latest is not None and latest.prompt == prompt else None
    if run is None:
        now = utcnow()
        run = LabRun(org_id=user.org_id, user_id=user.id, lesson_id=lesson.id, kind=LabRunKind.ANSWER, prompt=prompt,
                     status=LabRunStatus.DONE, created_at=now, finished_at=now)
        db.session.add(run)
    run.checks = evaluation.as_json()
    run.score = evaluation.score
    run.passed = evaluation.passed
    db.session.flush()
    return run


def model_feedback(grading: LabRun | None, exercise=None):
    """The model's grading as (rows of (label, met or None, comment), summary), read by
    ``runner.parse_grading``, each criterion in the rubric's own words; the text as the model wrote it when it
    holds no such JSON."""
    if grading is None or not grading.answer:
        return [], ""
    parsed = runner.parse_grading(grading.answer)
    if parsed is None:
        return [], grading.answer
    words = {c.check: checks.criterion_label(c) for c in (exercise.criteria if exercise else ())}
    rows = [(words.get(item["check"]) or checks.check_words(item["check"]), item["met"], item["comment"])
            for item in parsed["criteria"]]
    return rows, parsed["summary"]
