"""Quiz pages: the list, a quiz, submitting an attempt, and an attempt's feedback."""
from flask import request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from leadthe.assessments import bp, services
from leadthe.assessments.certificates import certificate_for
from leadthe.assessments.maturity import latest_result
from leadthe.errors import render_error
from leadthe.extensions import db
from leadthe.htmx import is_htmx, render, see_other


@bp.route("/assessments")
@login_required
def index():
    return render("assessments/list.html", cards=services.quiz_cards(current_user), maturity=latest_result(current_user.id))


def _quiz_page(card, questions, *, errors=None, picked=None, status=200, message=None):
    number = card.attempts + 1
    seed = services.attempt_seed(current_user.id, card.quiz.id, number)
    block = "quiz_status" if request.headers.get("HX-Target") == "quiz-status" else "quiz_body"
    return render("assessments/quiz.html", block=block, status=status, card=card, quiz=card.quiz,
                  items=services.ordered(questions, seed, card.quiz.shuffle), number=number, errors=errors or {},
                  picked=picked or {}, message=message, latest=services.latest_attempt(current_user.id, card.quiz.id))


@bp.route("/assessments/<quiz_id>")
@login_required
def quiz(quiz_id):
    card = services.get_quiz_card_or_404(quiz_id, current_user)
    return _quiz_page(card, services.live_questions(card.quiz.id))


@bp.route("/assessments/<quiz_id>/attempts", methods=["POST"])
@login_required
def submit(quiz_id):
    card = services.get_quiz_card_or_404(quiz_id, current_user)
    questions = services.live_questions(card.quiz.id)
    if card.attempts_left == 0:
        return _quiz_page(card, questions, status=200 if is_htmx() else 409,
                          message=ngettext("You have used your only attempt at this quiz.", "You have used all %(num)s attempts at this quiz.",
                                           card.quiz.max_attempts))
    try:
        answers, missing = services.parse_answers(request.form, questions)
    except services.BadAnswers as exc:
        return render_error(400, _("These answers do not match the questions of this quiz (%(why)s). "
                                   "Please reload the quiz and answer again.", why=str(exc)))
    if missing:
        errors = {qid: _("Choose an answer.") for qid in missing}
        return _quiz_page(card, questions, errors=errors, picked=answers, status=200 if is_htmx() else 422,
                          message=_("Please answer every question: %(n)s still open.", n=len(missing)))
    try:
        attempt = services.submit_attempt(current_user, card, questions, answers)
        db.session.flush()
    except services.NoAttemptsLeft:
        db.session.rollback()
        return _quiz_page(card, questions, status=200 if is_htmx() else 409,
                          message=ngettext("You have used your only attempt at this quiz.", "You have used all %(num)s attempts at this quiz.",
                                           card.quiz.max_attempts))
    except IntegrityError:  # the same attempt sent twice at once: the other request stored it
        db.session.rollback()
        latest = services.latest_attempt(current_user.id, card.quiz.id)
        return see_other(url_for("assessments.result", quiz_id=card.quiz.id, attempt_id=latest.id))
    url = url_for("assessments.result", quiz_id=card.quiz.id, attempt_id=attempt.id)
    if is_htmx():
        body, status = _result_page(card.quiz.id, attempt.id, block="quiz_body")
        return body, status, {"HX-Trigger": "progress-changed", "HX-Push-Url": url}
    return see_other(url)


def _result_page(quiz_id, attempt_id, block=None):
    card = services.get_quiz_card_or_404(quiz_id, current_user)
    attempt = services.get_attempt_or_404(card.quiz.id, attempt_id, current_user)

    cert = certificate_for(current_user.id, card.course.id) if attempt.passed else None
    return render("assessments/result.html", block=block, card=card, quiz=card.quiz, attempt=attempt,
                  feedback=services.attempt_feedback(attempt, card.quiz), certificate=cert,
                  course_done=services.lessons_done(current_user.id, card.course),
                  reveal=services.may_reveal_answers(card, attempt))


@bp.route("/assessments/<quiz_id>/attempts/<attempt_id>")
@login_required
def result(quiz_id, attempt_id):
    return _result_page(quiz_id, attempt_id)
