"""Quiz scores and AI maturity levels (the assessments area), as aggregate subqueries keyed by user id.

The admin pages join these in, so a page runs the same few statements whatever the number of people.
Each function takes a SELECT of the user ids in view and returns a subquery with a ``user_id`` column.
"""
from __future__ import annotations

import sqlalchemy as sa

from leadthe.assessments.rubric import DIMENSIONS
from leadthe.models import MaturityResult, QuizAttempt


def latest_score(members: sa.Select):
    """Per person: the score (percent) of their most recent quiz attempt."""
    A = QuizAttempt
    newest = (sa.select(A.user_id, sa.func.max(A.id).label("attempt_id"))
              .where(A.user_id.in_(members)).group_by(A.user_id).subquery())
    return (sa.select(newest.c.user_id, A.score.label("latest_score"))
            .join(A, A.id == newest.c.attempt_id).subquery("latest_score"))


def passed_counts(members: sa.Select, since=None):
    """Per person: how many different quizzes they passed (optionally: first passed since ``since``)."""
    A = QuizAttempt
    first_pass = (sa.select(A.user_id, A.quiz_id, sa.func.min(A.created_at).label("at"))
                  .where(A.passed.is_(True), A.user_id.in_(members)).group_by(A.user_id, A.quiz_id).subquery())
    stmt = sa.select(first_pass.c.user_id, sa.func.count().label("passed")).group_by(first_pass.c.user_id)
    if since is not None:
        stmt = stmt.where(first_pass.c.at >= since)
    return stmt.subquery("passed")


def average_score(members: sa.Select):
    """(average score of all attempts, number of attempts) for these people."""
    A = QuizAttempt
    return sa.select(sa.func.avg(A.score), sa.func.count()).where(A.user_id.in_(members))


def maturity_level(members: sa.Select):
    R = MaturityResult
    return (sa.select(R.user_id, sa.func.max(R.level).label("maturity"))
            .where(R.is_latest.is_(True), R.user_id.in_(members)).group_by(R.user_id).subquery("maturity"))


def maturity_dimensions() -> list[tuple[str, str]]:
    """(key, label) of the maturity dimensions, from the assessments area's rubric."""
    return [(key, str(label)) for key, label in DIMENSIONS.items()]


def maturity_distribution(members: sa.Select):
    """Rows (dimension, level 1-5, people) for the latest results, with "overall" for the level itself.
    One statement: a UNION of one GROUP BY per dimension, the score read from the JSON column."""
    R = MaturityResult
    base = sa.and_(R.is_latest.is_(True), R.user_id.in_(members))
    parts = [sa.select(sa.literal("overall").label("dim"), R.level.label("lvl"), sa.func.count().label("n"))
             .where(base).group_by(R.level)]
    for key, _label in maturity_dimensions():
        value = sa.cast(sa.func.round(R.scores[key].as_float()), sa.Integer)
        parts.append(sa.select(sa.literal(key).label("dim"), value.label("lvl"), sa.func.count().label("n"))
                     .where(base, R.scores[key].as_float().is_not(None)).group_by(value))
    return sa.union_all(*parts)
