"""Requirement rules, and how they follow people: ``apply_rules`` materialises one ``Requirement`` per
(person, course) that the company's active rules ask for, set-based (a handful of statements whatever
the company's size), and ends those no rule asks for any more; what a person completed stays theirs.

Public functions other areas call:

- ``apply_rules(org_id, user_ids=None, now=None)``: bring the company's requirements (or those of
  ``user_ids``) in line with its active rules and certificates; returns nothing.
- ``record_completion(org_id, user_id, course_id, now=None)``: copy a (new or renewed) certificate into
  the person's requirement for the course and reset its reminders.
- ``connect_signals()``: at app start-up, ``person_changed`` -> ``apply_rules`` for that person and
  ``certificate_issued`` -> ``record_completion``.
- ``covered_people(org_id, rule)`` (a SELECT of user ids), ``count_covered(org_id, rule)`` and
  ``rule_condition(rule)`` (the SQL condition on ``user_account``): whom a rule covers, active or not.
- ``rule_matches(org_id, rules, user_ids)``: a subquery (user_id, course_id, rule_id, due_days) of every
  person each rule covers, for aggregate figures by rule.

Dates: a requirement is due ``due_days`` after it was assigned, that is after the person joined (a
newcomer is assigned when their account is created) or after the rule came (people already there) or
after they moved into its scope; with several rules for the same course the earliest due date counts.
A completion (a certificate, whenever issued and not revoked) sets ``completed_at`` and ``valid_until``
(the certificate's expiry, or completion + the rule's ``refresh_months``; 0 = never expires) and moves
``due_on`` to that refresh date. The rule a requirement names (``rule_id``) is the lowest-numbered rule
that covers the person; its refresh setting is the one used.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from leadthe.database import upsert
from leadthe.extensions import db
from leadthe.models import Certificate, Requirement, RequirementRule, TeamMembership, User, utcnow
from leadthe.models.base import UTCDateTime
from leadthe.models.enums import RuleField, RuleOperator, UserStatus
from leadthe.signals import certificate_issued, person_changed

REQ = Requirement.__table__
USER = User.__table__
CERT = Certificate.__table__
RULE = RequirementRule.__table__


# --- date arithmetic in SQL, for SQLite and PostgreSQL -----------------------------------------------------

class _day_of(FunctionElement):
    """The UTC calendar day of a timestamp."""
    type = sa.Date()
    inherit_cache = True


class _add_days(FunctionElement):
    """A date plus a whole number of days."""
    type = sa.Date()
    inherit_cache = True


class _add_months(FunctionElement):
    """A timestamp plus a whole number of months."""
    type = UTCDateTime()
    inherit_cache = True


def _sql(template: str):
    """A compiler for a function element: its arguments, compiled, in ``template``'s ``%s`` places."""
    def compile_element(element, compiler, **kw):
        return template % tuple(compiler.process(arg, **kw) for arg in element.clauses)
    return compile_element


compiles(_day_of)(_sql("CAST((%s) AT TIME ZONE 'UTC' AS DATE)"))
compiles(_day_of, "sqlite")(_sql("date(%s)"))
compiles(_add_days)(_sql("(CAST(%s AS DATE) + CAST(%s AS INTEGER))"))
compiles(_add_days, "sqlite")(_sql("date(%s, '+' || (%s) || ' days')"))
compiles(_add_months)(_sql("(%s + make_interval(months => CAST(%s AS INTEGER)))"))
compiles(_add_months, "sqlite")(_sql("datetime(%s, '+' || (%s) || ' months')"))


# --- who a rule covers ---------------------------------------------------------------------------------

def _text_match(column, operator: str, value: str):
    value = (value or "").strip().lower()
    if operator == RuleOperator.CONTAINS:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return sa.func.lower(column).like(f"%{escaped}%", escape="\\")
    return sa.func.lower(sa.func.trim(column)) == value


def rule_condition(rule):
    """The SQL condition on ``user_account`` for the people ``rule`` covers (its field, operator, value)."""
    if rule.field == RuleField.TEAM:
        return USER.c.id.in_(sa.select(TeamMembership.__table__.c.user_id)
                             .where(TeamMembership.__table__.c.team_id == rule.team_id))
    if rule.field == RuleField.DEPARTMENT:
        return _text_match(USER.c.department, rule.operator, rule.value)
    if rule.field == RuleField.JOB_TITLE:
        return _text_match(USER.c.job_title, rule.operator, rule.value)
    if rule.field == RuleField.ROLE:
        return USER.c.role == (rule.value or "").strip().lower()
    return sa.true()


def covered_people(org_id: int, rule):
    """SELECT of the ids of the company's active people ``rule`` covers (whether or not it is active)."""
    return sa.select(USER.c.id).where(USER.c.org_id == org_id, USER.c.status == UserStatus.ACTIVE, rule_condition(rule))


def count_covered(org_id: int, rule) -> int:
    """How many people ``rule`` would cover now (the preview on the rule form): one statement."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(covered_people(org_id, rule).subquery())) or 0


def _active_rules(org_id: int) -> list:
    return db.session.execute(sa.select(RULE.c.id, RULE.c.course_id, RULE.c.field, RULE.c.operator, RULE.c.value,
                                        RULE.c.team_id, RULE.c.due_days)
                              .where(RULE.c.org_id == org_id, RULE.c.active.is_(True)).order_by(RULE.c.id)).all()


def rule_matches(org_id: int, rules: list, user_ids):
    """(user_id, course_id, rule_id, due_days) for every person covered by every rule: one UNION ALL."""
    parts = []
    for rule in rules:
        stmt = sa.select(USER.c.id.label("user_id"), sa.literal(rule.course_id, sa.Integer).label("course_id"),
                         sa.literal(rule.id, sa.Integer).label("rule_id"),
                         sa.literal(rule.due_days, sa.Integer).label("due_days")).where(
            USER.c.org_id == org_id, USER.c.status == UserStatus.ACTIVE, rule_condition(rule))
        if user_ids is not None:
            stmt = stmt.where(USER.c.id.in_(user_ids))
        parts.append(stmt)
    return sa.union_all(*parts).subquery("m")


# --- the engine ----------------------------------------------------------------------------------------

def apply_rules(org_id: int, user_ids=None, now: datetime | None = None) -> None:
    """Bring the requirements of company ``org_id`` (or only of the people ``user_ids``) in line with its
    active rules: assign what is required, end what is not any more, copy completions from certificates.
    At most five statements whatever the number of people; flushes, never commits."""
    now = now or utcnow()
    user_ids = None if user_ids is None else sorted({int(i) for i in user_ids})
    if user_ids == []:
        return
    db.session.flush()
    rules = _active_rules(org_id)
    if rules:
        _assign(org_id, rules, user_ids, now)
    _end_uncovered(org_id, rules, user_ids, now)
    _copy_completions(org_id, user_ids, now)
    _expire_loaded_requirements()


def _assign(org_id: int, rules: list, user_ids, now: datetime) -> None:
    """Upsert one requirement per (person, course): new rows are assigned now; a row that had ended starts
    again now; open rows get the due date of their assignment day + the shortest due period."""
    m = rule_matches(org_id, rules, user_ids)
    wanted = (sa.select(m.c.user_id, m.c.course_id, sa.func.min(m.c.rule_id).label("rule_id"),
                        sa.func.min(m.c.due_days).label("due_days"))
              .group_by(m.c.user_id, m.c.course_id).subquery("w"))
    old = REQ.alias("old")
    now_param = sa.literal(now, UTCDateTime())
    assigned = sa.case((sa.and_(old.c.id.is_not(None), old.c.ended_at.is_(None)), old.c.assigned_at), else_=now_param)
    source = (sa.select(sa.literal(org_id, sa.Integer), wanted.c.user_id, wanted.c.course_id, wanted.c.rule_id, assigned,
                        _add_days(_day_of(assigned), wanted.c.due_days))
              .select_from(wanted.outerjoin(old, sa.and_(old.c.user_id == wanted.c.user_id, old.c.course_id == wanted.c.course_id)))
              .where(sa.true()))  # SQLite: a WHERE keeps ON CONFLICT from reading as a join's ON
    ins = upsert(REQ).from_select(["org_id", "user_id", "course_id", "rule_id", "assigned_at", "due_on"], source)
    ex = ins.excluded
    open_due_moves = sa.and_(REQ.c.completed_at.is_(None), REQ.c.due_on.is_distinct_from(ex.due_on))
    ins = ins.on_conflict_do_update(
        index_elements=["user_id", "course_id"],
        set_={"rule_id": ex.rule_id, "assigned_at": ex.assigned_at, "ended_at": None,
              "due_on": sa.case((REQ.c.completed_at.is_(None), ex.due_on), else_=REQ.c.due_on),
              "reminded_due_at": sa.case((open_due_moves, sa.null()), else_=REQ.c.reminded_due_at),
              "reminded_overdue_at": sa.case((open_due_moves, sa.null()), else_=REQ.c.reminded_overdue_at)},
        where=sa.or_(REQ.c.rule_id.is_distinct_from(ex.rule_id), REQ.c.ended_at.is_not(None),
                     REQ.c.assigned_at.is_distinct_from(ex.assigned_at), open_due_moves))
    db.session.execute(ins)


def _end_uncovered(org_id: int, rules: list, user_ids, now: datetime) -> None:
    """End the requirements in force whose person no active rule for that course covers any more."""
    by_course: dict[int, list] = {}
    for rule in rules:
        by_course.setdefault(rule.course_id, []).append(rule)
    def covered(rule):
        people = covered_people(org_id, rule)
        return people if user_ids is None else people.where(USER.c.id.in_(user_ids))

    still = [sa.and_(REQ.c.course_id == course_id, REQ.c.user_id.in_(sa.union_all(*[covered(r) for r in course_rules])))
             for course_id, course_rules in by_course.items()]
    stmt = sa.update(REQ).where(*_in_scope(org_id, user_ids), REQ.c.ended_at.is_(None)).values(ended_at=now)
    if still:
        stmt = stmt.where(sa.not_(sa.or_(*still)))
    db.session.execute(stmt)


def _copy_completions(org_id: int, user_ids, now: datetime, course_id: int | None = None, reset_reminders=False) -> None:
    """Completion, validity and refresh date of the requirements in force, from the person's certificate
    (not revoked) for the course and the refresh setting of the requirement's rule."""
    valid = sa.case((RULE.c.refresh_months.is_(None), CERT.c.expires_at),
                    (RULE.c.refresh_months == 0, sa.null()),
                    else_=_add_months(CERT.c.issued_at, RULE.c.refresh_months))
    due = sa.case((valid.is_(None), REQ.c.due_on), else_=_day_of(valid))
    moved = REQ.c.due_on.is_distinct_from(due)
    keep_due = sa.false() if reset_reminders else sa.not_(moved)
    stmt = (sa.update(REQ)
            .where(*_in_scope(org_id, user_ids), REQ.c.ended_at.is_(None), CERT.c.user_id == REQ.c.user_id,
                   CERT.c.course_id == REQ.c.course_id, CERT.c.revoked_at.is_(None), RULE.c.id == REQ.c.rule_id)
            .values(completed_at=CERT.c.issued_at, valid_until=valid, due_on=due,
                    reminded_due_at=sa.case((keep_due, REQ.c.reminded_due_at), else_=sa.null()),
                    reminded_overdue_at=sa.case((keep_due, REQ.c.reminded_overdue_at), else_=sa.null())))
    if not reset_reminders:  # only rows that change
        stmt = stmt.where(sa.or_(REQ.c.completed_at.is_distinct_from(CERT.c.issued_at),
                                 REQ.c.valid_until.is_distinct_from(valid), moved))
    if course_id is not None:
        stmt = stmt.where(REQ.c.course_id == course_id)
    db.session.execute(stmt)


def _in_scope(org_id: int, user_ids) -> list:
    """The requirement rows of the company, or of the people ``user_ids`` (of the company): by person when
    there are people, so the database finds them by the (user_id, course_id) index."""
    if user_ids is None:
        return [REQ.c.org_id == org_id]
    return [REQ.c.user_id.in_(user_ids), REQ.c.user_id.in_(sa.select(USER.c.id).where(USER.c.org_id == org_id, USER.c.id.in_(user_ids)))]


def _expire_loaded_requirements() -> None:
    """The statements above bypass the ORM: requirement objects already loaded must be read again."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Requirement):
            db.session.expire(obj)


def record_completion(org_id: int, user_id: int, course_id: int, now: datetime | None = None) -> None:
    """A certificate was issued or renewed: the person's requirement for the course counts it (completed,
    valid until, due again on the refresh date) and its reminders start again for the new due date."""
    db.session.flush()
    _copy_completions(org_id, [user_id], now or utcnow(), course_id=course_id, reset_reminders=True)
    _expire_loaded_requirements()


# --- signals -------------------------------------------------------------------------------------------

def on_person_changed(user, changed=None, **_):
    if user.org_id is not None:
        apply_rules(user.org_id, [user.id])


def on_certificate_issued(user, course=None, certificate=None, now=None, **_):
    if user.org_id is not None and course is not None:
        record_completion(user.org_id, user.id, course.id, now=now)


def connect_signals() -> None:
    """At app start-up: requirements follow people (joined, moved, role changed) and their certificates."""
    person_changed.connect(on_person_changed)
    certificate_issued.connect(on_certificate_issued)
