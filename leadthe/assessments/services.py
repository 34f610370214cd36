"""Quizzes: what a learner may take, the question order of an attempt, answer checking, scoring, and
course completion (all live lessons done AND the course's quiz passed).

Answers arrive as ``q<question_id>`` = choice id (repeated for multiple choice). Anything that does not
name a live question of this quiz or a live choice of that question is a hostile or stale form and is
refused with 400 (``BadAnswers``); a question left unanswered is an ordinary mistake shown beside it.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import abort, current_app

from leadthe.assessments.certificates import certificate_for, issue_certificate
from leadthe.courses.services import visible_courses
from leadthe.database import shared_alias, upsert
from leadthe.extensions import db
from leadthe.models import (Course, Enrollment, Lesson, LessonCompletion, Quiz, QuizAttempt, QuizChoice, QuizQuestion,
                            QuizResponse, User, utcnow)
from leadthe.models.course import CourseModule
from leadthe.signals import course_completed, lesson_completed
from leadthe.query_args import id_or_404

_KEY = re.compile(r"^q(.*)$")


class BadAnswers(ValueError):
    """The submitted answers name things that are not part of this quiz (never a user's honest mistake)."""


class NoAttemptsLeft(Exception):
    pass


# --- reading quizzes ---------------------------------------------------------------------------------

@dataclass
class QuizCard:
    quiz: Quiz
    course: Course
    attempts: int
    best: int | None
    latest: int | None
    passed: bool

    @property
    def attempts_left(self) -> int | None:
        return None if not self.quiz.max_attempts else max(self.quiz.max_attempts - self.attempts, 0)

    @property
    def shown_score(self) -> int | None:
        return self.best if self.quiz.scoring == "best" else self.latest


def _attempt_stats(user_id: int):
    latest_id = sa.func.max(QuizAttempt.id)
    return (
        sa.select(QuizAttempt.quiz_id, sa.func.count().label("n"), sa.func.max(QuizAttempt.score).label("best"),
                  latest_id.label("latest_id"),
                  sa.func.max(sa.case((QuizAttempt.passed.is_(True), 1), else_=0)).label("ever_passed"))
        .where(QuizAttempt.user_id == user_id).group_by(QuizAttempt.quiz_id).subquery()
    )


def quiz_cards(user: User, quiz_id: int | None = None) -> list[QuizCard]:
    """Every quiz the person may take, with their attempts, best and latest score: one query."""
    stats = _attempt_stats(user.id)
    latest = shared_alias(QuizAttempt, "latest_attempt")
    stmt = (
        sa.select(Quiz, Course, stats.c.n, stats.c.best, latest.score, latest.passed, stats.c.ever_passed)
        .join(Course, Course.id == Quiz.course_id)
        .outerjoin(stats, stats.c.quiz_id == Quiz.id)
        .outerjoin(latest, latest.id == stats.c.latest_id)
        .where(Quiz.archived.is_(False), visible_courses(user))
        .order_by(Course.org_id.is_(None), Course.position, Course.title)
    )
    if quiz_id is not None:
        stmt = stmt.where(Quiz.id == quiz_id)
    cards = []
    for quiz, course, n, best, latest_score, latest_passed, ever in db.session.execute(stmt).all():
        passed = bool(latest_passed) if quiz.scoring == "latest" else bool(ever)
        cards.append(QuizCard(quiz, course, n or 0, best, latest_score, passed))
    return cards


def get_quiz_card_or_404(quiz_id, user: User) -> QuizCard:
    quiz_id = id_or_404(quiz_id)
    cards = quiz_cards(user, quiz_id)
    if not cards:
        abort(404)
    return cards[0]


def live_questions(quiz_id: int) -> list[QuizQuestion]:
    """Live questions in content order, each with its live choices (two queries)."""
    questions = list(db.session.scalars(
        sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id, QuizQuestion.archived.is_(False))
        .order_by(QuizQuestion.position)))
    by_id = {q.id: q for q in questions}
    live: dict[int, list[QuizChoice]] = {q.id: [] for q in questions}
    if by_id:
        for choice in db.session.scalars(
                sa.select(QuizChoice).where(QuizChoice.question_id.in_(by_id), QuizChoice.archived.is_(False))
                .order_by(QuizChoice.question_id, QuizChoice.position)):
            live[choice.question_id].append(choice)
    for q in questions:
        q.live_choices = live[q.id]
    return questions


def attempt_seed(user_id: int, quiz_id: int, number: int) -> int:
    """The shuffle seed of a person's n-th attempt: the same on every reload of that attempt, different
    for the next one, and not guessable from outside (keyed with the app secret)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"quiz-order:{user_id}:{quiz_id}:{number}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:6], "big")


def ordered(questions: list[QuizQuestion], seed: int, shuffle: bool) -> list[tuple[QuizQuestion, list[QuizChoice]]]:
    """Questions and their choices in the order of this attempt. True/false keeps True before False."""
    rng = random.Random(seed)
    items = list(questions)
    if shuffle:
        rng.shuffle(items)
    result = []
    for q in items:
        choices = list(q.live_choices)
        if shuffle and q.kind != "true_false":
            rng.shuffle(choices)
        result.append((q, choices))
    return result


# --- answering ---------------------------------------------------------------------------------------

def parse_answers(formdata, questions: list[QuizQuestion]) -> tuple[dict[int, list[int]], list[int]]:
    """``q<id>`` fields to {question id: [choice ids]}, plus the ids of unanswered questions.
    Raises BadAnswers for anything that is not an honest answer to this quiz."""
    by_id = {q.id: q for q in questions}
    answers: dict[int, list[int]] = {}
    for key in formdata.keys():
        match = _KEY.match(key)
        if not match:
            continue  # csrf_token and the like
        raw_id = match.group(1)
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 12:
            raise BadAnswers(f"{key!r} does not name a question")
        question = by_id.get(int(raw_id))
        if question is None:
            raise BadAnswers(f"question {raw_id} is not part of this quiz")
        picked = _picked_choices(question, formdata.getlist(key))
        if picked:
            answers[question.id] = picked
    missing = [q.id for q in questions if q.id not in answers]
    return answers, missing


def _picked_choices(question: QuizQuestion, values: list[str]) -> list[int]:
    """The choice ids sent for one question, each a live choice of it, none twice, one only unless it is a
    multiple-answer question (else BadAnswers)."""
    valid = {c.id for c in question.live_choices}
    picked = []
    for value in values:
        value = (value or "").strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 12:  # "¹" and "٣" are digits to isdigit(), not to int()
            raise BadAnswers(f"{value!r} is not a choice")
        cid = int(value)
        if cid not in valid:
            raise BadAnswers(f"choice {cid} does not belong to question {question.id}")
        if cid in picked:
            raise BadAnswers(f"choice {cid} was sent twice")
        picked.append(cid)
    if question.kind != "multiple" and len(picked) > 1:
        raise BadAnswers(f"question {question.id} takes one answer")
    return picked


def is_correct(question: QuizQuestion, picked: list[int]) -> bool:
    return set(picked) == {c.id for c in question.live_choices if c.correct}


def score(questions: list[QuizQuestion], answers: dict[int, list[int]]) -> tuple[int, int]:
    correct = sum(1 for q in questions if is_correct(q, answers.get(q.id, [])))
    return correct, len(questions)


def submit_attempt(user: User, card: QuizCard, questions: list[QuizQuestion], answers: dict[int, list[int]],
                   now: datetime | None = None) -> QuizAttempt:
    """Store the attempt and every response; on a pass, complete the course if its lessons are done.
    The unique (user, quiz, number) makes a concurrent double submit fail instead of using two attempts."""
    now = now or utcnow()
    quiz = card.quiz
    number = (db.session.scalar(sa.select(sa.func.max(QuizAttempt.number))
                                .where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id)) or 0) + 1
    if quiz.max_attempts and number > quiz.max_attempts:
        raise NoAttemptsLeft()
    correct, total = score(questions, answers)
    percent = round(100 * correct / total) if total else 0
    attempt = QuizAttempt(org_id=user.org_id, user_id=user.id, quiz_id=quiz.id, number=number,
                          seed=attempt_seed(user.id, quiz.id, number), score=percent, correct_count=correct,
                          question_count=total, passed=percent >= quiz.pass_mark, created_at=now)
    db.session.add(attempt)
    db.session.flush()
    db.session.add_all([
        QuizResponse(attempt_id=attempt.id, user_id=user.id, question_id=q.id, choice_ids=answers.get(q.id, []),
                     correct=is_correct(q, answers.get(q.id, [])))
        for q in questions
    ])
    db.session.flush()
    if attempt.passed:
        maybe_complete_course(user, card.course, now)
    return attempt


@dataclass
class Feedback:
    question: QuizQuestion
    choices: list[QuizChoice]
    picked: list[int] = field(default_factory=list)
    correct: bool = False


def get_attempt_or_404(quiz_id: int, attempt_id, user: User) -> QuizAttempt:
    attempt = db.session.scalar(sa.select(QuizAttempt).where(
        QuizAttempt.id == id_or_404(attempt_id), QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user.id))
    if attempt is None:
        abort(404)
    return attempt


def may_reveal_answers(card: QuizCard, attempt: QuizAttempt) -> bool:
    """The right answers and explanations only once they can no longer carry a later attempt: after a
    pass, or when no attempt is left. Before that, feedback says which questions were wrong, not why."""
    return bool(attempt.passed or card.passed or card.attempts_left == 0)


def attempt_feedback(attempt: QuizAttempt, quiz: Quiz) -> list[Feedback]:
    """Per question of the attempt (in the order it was shown): the picked choices, the right ones and
    the explanation. Questions archived since are still shown: responses point at them."""
    responses = {r.question_id: r for r in db.session.scalars(sa.select(QuizResponse).where(QuizResponse.attempt_id == attempt.id))}
    questions = list(db.session.scalars(sa.select(QuizQuestion).where(QuizQuestion.id.in_(responses)).order_by(QuizQuestion.position)))
    by_q: dict[int, list[QuizChoice]] = {q.id: [] for q in questions}
    if by_q:
        for c in db.session.scalars(sa.select(QuizChoice).where(QuizChoice.question_id.in_(by_q)).order_by(QuizChoice.position)):
            by_q[c.question_id].append(c)
    for q in questions:
        q.live_choices = [c for c in by_q[q.id] if not c.archived] or by_q[q.id]
    return [Feedback(q, choices, list(responses[q.id].choice_ids or []), responses[q.id].correct)
            for q, choices in ordered(questions, attempt.seed, quiz.shuffle)]


# --- course completion -------------------------------------------------------------------------------

def quiz_passed(user_id: int, course_id: int) -> bool | None:
    """None when the course has no live quiz; else whether the person passed it (best: any attempt,
    latest: the newest one)."""
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course_id, Quiz.archived.is_(False)))
    if quiz is None:
        return None
    if quiz.scoring == "latest":
        latest = db.session.scalar(sa.select(QuizAttempt.passed).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id)
                                   .order_by(QuizAttempt.number.desc()).limit(1))
        return bool(latest)
    return db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id, QuizAttempt.passed.is_(True))) > 0


def lessons_done(user_id: int, course: Course) -> bool:
    done = db.session.scalar(
        sa.select(sa.func.count()).select_from(LessonCompletion)
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id).join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(LessonCompletion.user_id == user_id, LessonCompletion.course_id == course.id,
               Lesson.archived.is_(False), CourseModule.archived.is_(False)))
    return bool(course.lesson_count) and done >= course.lesson_count


def maybe_complete_course(user: User, course: Course, now: datetime | None = None) -> bool:
    """Complete the enrolment when every live lesson is done and the quiz (if any) is passed, and issue
    the certificate. Idempotent; True when this call completed the course. Receives ``lesson_completed``."""
    now = now or utcnow()
    if not lessons_done(user.id, course) or quiz_passed(user.id, course.id) is False:
        return False
    enrollment = db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))
    if enrollment is None:
        db.session.execute(upsert(Enrollment).values(user_id=user.id, course_id=course.id, created_at=now)
                           .on_conflict_do_nothing(index_elements=["user_id", "course_id"]))
    updated = db.session.execute(
        sa.update(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id,
                                    Enrollment.completed_at.is_(None))
        .values(completed_at=now).execution_options(synchronize_session=False)).rowcount
    issue_certificate(user, course, now)
    if updated:
        course_completed.send(user, course=course, now=now)
    return bool(updated)


def connect_signals() -> None:
    """At app start-up: a newly completed lesson may complete its course."""
    lesson_completed.connect(maybe_complete_course)


def quiz_for_course(course_id: int) -> Quiz | None:
    return db.session.scalar(sa.select(Quiz).where(Quiz.course_id == course_id, Quiz.archived.is_(False)))


def latest_attempt(user_id: int, quiz_id: int) -> QuizAttempt | None:
    return db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id)
                             .order_by(QuizAttempt.number.desc()).limit(1))


def course_quiz_card(user: User, course: Course) -> QuizCard | None:
    """The course's quiz with the person's status and certificate, for the course page."""
    quiz_id = db.session.scalar(sa.select(Quiz.id).where(Quiz.course_id == course.id, Quiz.archived.is_(False)))
    if quiz_id is None:
        return None
    cards = quiz_cards(user, quiz_id)
    if not cards:
        return None
    card = cards[0]
    card.certificate = certificate_for(user.id, course.id)
    return card


def quiz_ids_for(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    return dict(db.session.execute(sa.select(Quiz.course_id, Quiz.id).where(Quiz.course_id.in_(course_ids), Quiz.archived.is_(False))).all())


def seed_passing_attempt(user: User, course: Course, now: datetime | None = None) -> None:
    """Demo data: a passed attempt with every answer right (idempotent: nothing if already passed)."""
    quiz = quiz_for_course(course.id)
    if quiz is None or quiz_passed(user.id, course.id):
        return
    questions = live_questions(quiz.id)
    answers = {q.id: [c.id for c in q.live_choices if c.correct] for q in questions}
    card = QuizCard(quiz, course, 0, None, None, False)
    submit_attempt(user, card, questions, answers, now)
